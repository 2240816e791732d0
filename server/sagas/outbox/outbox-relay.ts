// Publishes the outbox to Kafka in id order. One relay leads at a time (a Postgres
// advisory lock held by its session), so a saga's events are never reordered; when the
// leader dies its session ends, the lock is freed, and another instance takes over.
// Delivery is at least once: a crash between send and mark re-sends, and every consumer
// is idempotent on the event id. The leader's session listens on the outbox's channel, which
// every commit that adds messages notifies: they leave at once, not at the next poll (the poll
// stays, for a notification lost with a session).
import type { Producer } from "kafkajs";
import pg from "pg";
import type { Logger } from "../../log.ts";
import type { OutboxRow, RelayedOutbox } from "./outbox-table.ts";

/** kafkajs marks errors a retry cannot cure (message too large, invalid record…) as not retriable. */
function isPermanent(error: unknown): boolean {
  const e = error as { retriable?: boolean; cause?: unknown; errors?: unknown[] };
  if (e?.retriable === false && (error as Error).name === "KafkaJSProtocolError") return true;
  return [e?.cause, ...(e?.errors ?? [])].some(
    (inner) => inner !== undefined && inner !== error && isPermanent(inner),
  );
}

/** Advisory lock class of outbox leadership (two-key form, apart from other lock users). */
const LOCK_CLASS_OUTBOX = 7301;
/** Rows read and sent at most per cycle. */
const ROWS_PER_CYCLE = 500;

export interface OutboxRelay {
  start(): void;
  stop(): Promise<void>;
  isLeader(): boolean;
  /** Messages the broker refused for good since start, set aside in the outbox. */
  refused(): number;
}

export function createOutboxRelay(deps: {
  databaseUrl: string;
  outbox: RelayedOutbox;
  producer: Producer;
  /** Relays sharing this name share one outbox, and one of them leads. */
  name: string;
  log: Logger;
  /** How long an idle leader waits for a notification before it looks anyway (default 500 ms). */
  pollMs?: number;
  /** Published rows are deleted after this long (default one hour). */
  retentionMs?: number;
}): OutboxRelay {
  const pollMs = deps.pollMs ?? 500;
  const retentionMs = deps.retentionMs ?? 3600_000;
  let refused = 0;
  let lastPrune = 0;
  let running = false;
  let leader = false;
  let loop: Promise<void> | undefined;
  let session: pg.Client | undefined;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  /** A commit notified since the last look at the outbox. */
  let notified = false;
  let endNap: (() => void) | undefined;
  /** Waits up to `ms`, less if a commit notifies meanwhile (or did since the last look). */
  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      if (notified || !running) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        endNap = undefined;
        resolve();
      }
      endNap = done;
    });
  const wake = () => {
    notified = true;
    endNap?.();
  };

  async function lead(): Promise<boolean> {
    session ??= await (async () => {
      const c = new pg.Client({
        connectionString: deps.databaseUrl,
        application_name: `outbox-relay:${deps.name}`,
      });
      c.on("error", () => {
        // Losing the session loses the lock: stop leading (a late error of an old session is ignored).
        if (session !== c) return;
        leader = false;
        session = undefined;
        void c.end().catch(() => {});
      });
      c.on("notification", wake);
      await c.connect();
      return c;
    })();
    const r = await session.query("SELECT pg_try_advisory_lock($1, hashtext($2)) AS got", [
      LOCK_CLASS_OUTBOX,
      deps.name,
    ]);
    if (r.rows[0].got !== true) return false;
    // Only the leader listens: the others would be told of every commit for nothing. A
    // failed LISTEN ends the session (and the lock with it); the next round tries again.
    await session.query(`LISTEN "${deps.outbox.channel}"`).catch(async (error) => {
      const failed = session;
      session = undefined;
      await failed?.end().catch(() => {});
      throw error;
    });
    return true;
  }

  const send = (rows: OutboxRow[]) => {
    const byTopic = new Map<string, OutboxRow[]>();
    for (const row of rows) byTopic.set(row.topic, [...(byTopic.get(row.topic) ?? []), row]);
    return deps.producer.sendBatch({
      topicMessages: [...byTopic].map(([topic, list]) => ({
        topic,
        messages: list.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
      })),
    });
  };

  async function publishSome(upToId?: number): Promise<number> {
    notified = false;
    const rows = (await deps.outbox.unpublished(ROWS_PER_CYCLE)).filter(
      (r) => upToId === undefined || r.id <= upToId,
    );
    if (rows.length === 0) return 0;
    try {
      await send(rows);
      await deps.outbox.markPublished(rows.map((r) => r.id));
    } catch (error) {
      // A broker that is away is waited for; a message the broker refuses for good (too
      // large, invalid) must not hold back every row after it: find it, set it aside, go on.
      if (!isPermanent(error)) throw error;
      for (const row of rows) {
        try {
          await send([row]);
          await deps.outbox.markPublished([row.id]);
        } catch (rowError) {
          if (!isPermanent(rowError)) throw rowError;
          const reason = rowError instanceof Error ? rowError.message : String(rowError);
          await deps.outbox.markRefused(row.id, reason);
          refused += 1;
          deps.log.error("the broker refused an outbox message; it is kept, set aside", {
            id: row.id,
            reason,
          });
        }
      }
    }
    return rows.length;
  }

  async function pruneNow() {
    const pruned = await deps.outbox.prune(retentionMs);
    if (pruned > 0) deps.log.debug("pruned published outbox rows", { pruned });
  }

  async function run() {
    while (running) {
      try {
        if (!leader) leader = await lead();
        if (!leader) {
          await sleep(500);
          continue;
        }
        // Less than a full cycle's rows: every row committed before the read is sent, and a
        // commit since then has notified (ending the nap at once), so no read is needed to know
        // whether more came: a round trip less a cycle.
        if ((await publishSome()) < ROWS_PER_CYCLE) await nap(pollMs);
        if (Date.now() - lastPrune > 60_000) {
          lastPrune = Date.now();
          await pruneNow();
        }
      } catch (error) {
        deps.log.warn("outbox relay failed; retrying", { error });
        await sleep(500);
      }
    }
  }

  return {
    start() {
      running = true;
      loop ??= run();
    },
    async stop() {
      running = false;
      endNap?.();
      await loop;
      loop = undefined;
      // What is in the outbox now is published before it goes (for at most 5 s); what
      // other instances add meanwhile is left to the next leader.
      if (leader) {
        const deadline = Date.now() + 5000;
        const [last] = await deps.outbox.unpublished(1, "last");
        while (last && Date.now() < deadline && (await publishSome(last.id).catch(() => 0)) > 0) {}
      }
      leader = false;
      await session?.end().catch(() => {});
      session = undefined;
    },
    isLeader: () => leader,
    refused: () => refused,
  };
}
