// Live saga changes for the web process: one Postgres LISTEN connection per process,
// fanned out to every open subscription. The ingester NOTIFYs on commit, so any number of
// web instances see every change without talking to each other.
import { EventEmitter, on } from "node:events";
import pg from "pg";
import { SAGA_CHANGES_CHANNEL } from "../ingest/store-batch.ts";
import type { Logger } from "../log.ts";

/** Saga ids that changed, or "*" when too many changed to list. */
export type SagaChange = { sagaIds: string[] | "*" };

export interface SagaChangeFeed {
  /** Changes as they come, batched per `flushMs`, until `signal` aborts. */
  stream(signal: AbortSignal | undefined): AsyncGenerator<SagaChange>;
  close(): Promise<void>;
}

export function createSagaChangeFeed(
  databaseUrl: string,
  log: Logger,
  {
    flushMs = 250,
    applicationName = "sagascope-live-feed",
  }: { flushMs?: number; applicationName?: string } = {},
): SagaChangeFeed {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  let client: pg.Client | undefined;
  let connecting: Promise<void> | undefined;
  let closed = false;
  let pending: Set<string> | "*" | undefined;
  let flushTimer: NodeJS.Timeout | undefined;

  const flush = () => {
    flushTimer = undefined;
    if (!pending) return;
    emitter.emit("change", { sagaIds: pending === "*" ? "*" : [...pending] } satisfies SagaChange);
    pending = undefined;
  };

  const onNotification = (payload: string | undefined) => {
    let ids: string[] | "*" = "*";
    try {
      if (payload && payload !== "*") ids = JSON.parse(payload) as string[];
    } catch {
      ids = "*";
    }
    if (ids === "*" || pending === "*") pending = "*";
    else {
      pending ??= new Set();
      for (const id of ids) pending.add(id);
    }
    flushTimer ??= setTimeout(flush, flushMs);
  };

  let retryTimer: NodeJS.Timeout | undefined;
  let retryMs = 500;

  // Keeps trying with growing pauses until it is connected again or closed.
  const scheduleReconnect = () => {
    if (closed || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect().catch(() => {});
    }, retryMs);
    retryMs = Math.min(retryMs * 2, 10_000);
  };

  const connect = (): Promise<void> => {
    connecting ??= (async () => {
      const c = new pg.Client({ connectionString: databaseUrl, application_name: applicationName });
      c.on("notification", (n) => onNotification(n.payload));
      c.on("error", (error) => {
        if (client !== c) return; // a failed connect is handled where it is awaited
        log.warn("live feed connection lost; reconnecting", { error });
        client = undefined;
        connecting = undefined;
        void c.end().catch(() => {});
        // Views refetch on "*", so nothing missed while disconnected stays missed.
        onNotification("*");
        scheduleReconnect();
      });
      try {
        await c.connect();
        await c.query(`LISTEN ${SAGA_CHANGES_CHANNEL}`);
      } catch (error) {
        await c.end().catch(() => {});
        throw error;
      }
      if (closed) {
        await c.end().catch(() => {});
        return;
      }
      client = c;
      retryMs = 500;
    })().catch((error: unknown) => {
      connecting = undefined;
      log.warn("live feed cannot connect; retrying", { error });
      scheduleReconnect();
      throw error;
    });
    return connecting;
  };

  return {
    async *stream(signal) {
      await connect();
      try {
        for await (const [change] of on(emitter, "change", { signal })) yield change as SagaChange;
      } catch (error) {
        if ((error as Error).name !== "AbortError") throw error;
      }
    },
    async close() {
      closed = true;
      clearTimeout(flushTimer);
      clearTimeout(retryTimer);
      await connecting?.catch(() => {});
      await client?.end().catch(() => {});
      client = undefined;
    },
  };
}
