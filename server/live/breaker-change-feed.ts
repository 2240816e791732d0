// Live breaker changes for the web process: one Redis subscription to the breakers' change
// channel per process, fanned out to every open page, plus a tick every couple of seconds
// (window counters move without announcements).
import { EventEmitter, on } from "node:events";
import { Redis } from "ioredis";
import type { Logger } from "../log.ts";

export interface BreakerChangeFeed {
  stream(signal: AbortSignal | undefined): AsyncGenerator<{ at: number }>;
  close(): Promise<void>;
}

export function createBreakerChangeFeed(
  redisUrl: string,
  channel: string,
  log: Logger,
  { flushMs = 100, tickMs = 2000 }: { flushMs?: number; tickMs?: number } = {},
): BreakerChangeFeed {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  let subscriber: Redis | undefined;
  let pending: NodeJS.Timeout | undefined;
  let ticker: NodeJS.Timeout | undefined;
  const emit = () => {
    pending = undefined;
    emitter.emit("change", { at: Date.now() });
  };
  const ensure = () => {
    if (subscriber) return;
    subscriber = new Redis(redisUrl, { lazyConnect: true, retryStrategy: () => 1000 });
    subscriber.on("error", (error) => log.debug("breaker feed: Redis error", { error: error.message }));
    subscriber.on("message", () => {
      pending ??= setTimeout(emit, flushMs);
    });
    void subscriber
      .connect()
      .then(() => subscriber?.subscribe(channel))
      .catch((error) => log.warn("breaker feed: cannot subscribe", { error: (error as Error).message }));
    ticker = setInterval(emit, tickMs);
  };
  return {
    async *stream(signal) {
      ensure();
      for await (const [change] of on(emitter, "change", { signal })) yield change as { at: number };
    },
    async close() {
      clearInterval(ticker);
      clearTimeout(pending);
      subscriber?.disconnect();
    },
  };
}
