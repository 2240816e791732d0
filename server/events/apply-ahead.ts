// Lets a consumer fetch ahead while its batches are applied. kafkajs fetches again only when
// every batch of its last fetch has been handed back, so a consumer that applies a batch
// before handing it back leaves Kafka idle while Postgres works and Postgres idle while the
// next fetch travels. Here a handed batch is queued instead: applied in order per partition,
// a few partitions at once, its offset committed to Kafka only after it was applied (without
// holding up the partition's next batch: commits go in turn, each behind the one before). A
// partition's batches that queued up while it was busy are applied together, as one: at a
// steady rate kafkajs fetches again at once and hands over a few messages at a time, and a
// transaction for each would cost more than the fetching ahead saves. The queue is bounded (a
// full one holds the consumer back, heartbeating), and a failed apply is tried again, with a
// growing pause, before any later batch of its partition.
import type { Consumer, EachBatchPayload } from "kafkajs";
import type { Logger } from "../log.ts";
import { countBound } from "./count-bound.ts";

export interface QueuedBatch<T> {
  topic: string;
  partition: number;
  /** The offset committed to Kafka once the batch is applied: its last offset + 1. */
  nextOffset: string;
  /** What the consumer made of the batch (decoded messages, say), handed to `apply`. */
  item: T;
  /**
   * Told once the queue is done with the batch: applied, its offset's commit on its way behind
   * the partition's earlier ones (true), or let go unapplied (false).
   */
  settled?: (applied: boolean) => void;
}

export interface ApplyAheadOptions<T> {
  /**
   * Applies consecutive batches of one partition, in Kafka's order, as one; throws when
   * nothing of them was kept (they are then applied again).
   */
  apply(items: T[]): Promise<void>;
  /** Partitions applied at once. */
  concurrency: number;
  /** Batches held at most (queued and being applied); a full queue holds the consumer back. */
  maxHeld: number;
  /** A partition's queued batches applied together at most. */
  maxTogether: number;
  /** Commits a partition's offset to Kafka. */
  commit(topic: string, partition: number, offset: string): Promise<void>;
  log: Logger;
  /** The pause before a failed batch is applied again, doubled each time up to `retryMaxMs`. */
  retryFirstMs?: number;
  retryMaxMs?: number;
}

/** What the consumer's batch handler lends while it waits for room. */
export interface WaitingBatch {
  heartbeat(): Promise<void>;
  /** True when the batch should no longer be taken (the consumer stopped or sought elsewhere). */
  stale(): boolean;
}

export interface ApplyAhead<T> {
  /**
   * Waits for room (heartbeating every second), then queues the batch. False when it was not
   * taken (closed, or stale while it waited): the caller must not resolve its offset.
   */
  enqueue(batch: QueuedBatch<T>, waiting: WaitingBatch): Promise<boolean>;
  /**
   * Forgets the batches not yet started. After the group rebalances, Kafka hands every
   * assigned partition again from its committed offset, so they would be applied twice.
   */
  dropQueued(): number;
  counts(): { held: number; applying: number };
  /** Takes nothing more, stops retrying, and resolves once the batches being applied are done. */
  close(): Promise<void>;
}

const HEARTBEAT_EVERY_MS = 1000;
const keyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export function createApplyAhead<T>(options: ApplyAheadOptions<T>): ApplyAhead<T> {
  const { log } = options;
  for (const bound of ["concurrency", "maxHeld", "maxTogether"] as const) countBound(bound, options[bound]);
  const retryFirstMs = options.retryFirstMs ?? 500;
  const retryMaxMs = options.retryMaxMs ?? 30_000;
  /** Queued batches per partition, in Kafka's order; a partition's first ones may be applying. */
  const queues = new Map<string, QueuedBatch<T>[]>();
  /** The partitions being applied, with how many of their first batches. */
  const applying = new Map<string, { run: Promise<void>; count: number }>();
  let held = 0;
  let closed = false;
  /** Who waits for room in the queue, and which failed batches wait to be applied again. */
  const roomWaiters = new Set<() => void>();
  const retryWaiters = new Set<() => void>();

  /** Resolves after `ms`, or sooner when `waiters` are woken. */
  const pause = (ms: number, waiters: Set<() => void>) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      waiters.add(wake);
    });
  const wakeAll = (waiters: Set<() => void>) => {
    for (const wake of [...waiters]) wake();
  };

  async function applyUntilKept(batches: QueuedBatch<T>[]): Promise<boolean> {
    const { topic, partition } = batches[0] as QueuedBatch<T>;
    for (
      let attempt = 1, pauseMs = retryFirstMs;
      ;
      attempt += 1, pauseMs = Math.min(retryMaxMs, pauseMs * 2)
    ) {
      try {
        await options.apply(batches.map((b) => b.item));
        return true;
      } catch (error) {
        if (closed) return false;
        log.warn("a batch could not be applied; it is applied again before any later one of its partition", {
          topic,
          partition,
          batches: batches.length,
          attempt,
          error: String(error),
          inMs: pauseMs,
        });
        await pause(pauseMs, retryWaiters);
        if (closed) return false;
      }
    }
  }

  async function commit(batch: QueuedBatch<T>) {
    try {
      await options.commit(batch.topic, batch.partition, batch.nextOffset);
    } catch (error) {
      // The rows are in; a lost commit only means the batch is read again after a restart or
      // rebalance, which the consumer's idempotent apply makes harmless.
      log.warn("an applied batch's offset could not be committed to Kafka", {
        topic: batch.topic,
        partition: batch.partition,
        error: String(error),
      });
    }
  }

  /**
   * Each partition's offset commits in flight, one after another: a later offset is never
   * overtaken by an earlier one.
   */
  const commits = new Map<string, Promise<void>>();

  /** Commits the batch's offset once the partition's earlier commits are done. */
  function commitInTurn(key: string, batch: QueuedBatch<T>) {
    const done = (commits.get(key) ?? Promise.resolve()).then(() => commit(batch));
    commits.set(key, done);
    void done.then(() => {
      if (commits.get(key) === done) commits.delete(key);
    });
  }

  /**
   * Applies a partition's first batches, then takes them off the queue and commits the last
   * one's offset. The commit, a round trip to Kafka, does not hold the partition's slot: the
   * next batch is applied meanwhile, and its own commit follows this one.
   */
  async function applyFirst(key: string, batches: QueuedBatch<T>[]) {
    if (!(await applyUntilKept(batches))) return;
    commitInTurn(key, batches.at(-1) as QueuedBatch<T>);
    // dropQueued keeps the batches being applied, so they are still the first.
    const queue = queues.get(key);
    queue?.splice(0, batches.length);
    held -= batches.length;
    if (queue?.length === 0) queues.delete(key);
    wakeAll(roomWaiters);
    for (const b of batches) b.settled?.(true);
  }

  /** Starts the first batches of waiting partitions, longest waiting first, while slots are free. */
  function pump() {
    for (const [key, queue] of queues) {
      if (applying.size >= options.concurrency || closed) return;
      if (queue.length === 0 || applying.has(key)) continue;
      const batches = queue.slice(0, options.maxTogether);
      const run = applyFirst(key, batches).finally(() => {
        applying.delete(key);
        // Round robin: a partition that still has batches goes behind the others.
        const rest = queues.get(key);
        if (rest) {
          queues.delete(key);
          queues.set(key, rest);
        }
        pump();
      });
      applying.set(key, { run, count: batches.length });
    }
  }

  return {
    async enqueue(batch, waiting) {
      let lastBeat = Date.now();
      while (held >= options.maxHeld && !closed) {
        await pause(HEARTBEAT_EVERY_MS, roomWaiters);
        if (Date.now() - lastBeat >= HEARTBEAT_EVERY_MS && !closed) {
          lastBeat = Date.now();
          await waiting.heartbeat();
        }
      }
      if (closed || waiting.stale()) return false;
      const key = keyOf(batch.topic, batch.partition);
      const queue = queues.get(key);
      if (queue) queue.push(batch);
      else queues.set(key, [batch]);
      held += 1;
      pump();
      return true;
    },
    dropQueued() {
      let dropped = 0;
      for (const [key, queue] of queues) {
        // A partition's first batches stay while they are being applied.
        const keep = applying.get(key)?.count ?? 0;
        dropped += queue.length - keep;
        for (const b of queue.splice(keep)) b.settled?.(false);
        if (queue.length === 0) queues.delete(key);
      }
      held -= dropped;
      wakeAll(roomWaiters);
      return dropped;
    },
    counts: () => ({ held, applying: applying.size }),
    async close() {
      closed = true;
      wakeAll(retryWaiters);
      wakeAll(roomWaiters);
      await Promise.allSettled([...applying.values()].map((a) => a.run));
      // The offsets of what was applied reach Kafka before the consumer leaves its group.
      await Promise.allSettled([...commits.values()]);
      for (const queue of queues.values()) for (const b of queue) b.settled?.(false);
      queues.clear();
      held = 0;
    },
  };
}

/**
 * A queue for a kafkajs consumer: offsets committed through it, and what is queued let go when
 * the group rebalances or the consumer joins again (kafkajs then fetches every assigned
 * partition again from its committed offset, so the queued batches would be applied twice).
 */
export function applyAheadFor<T>(
  consumer: Consumer,
  options: Omit<ApplyAheadOptions<T>, "commit">,
): ApplyAhead<T> {
  const ahead = createApplyAhead({
    ...options,
    commit: (topic, partition, offset) => consumer.commitOffsets([{ topic, partition, offset }]),
  });
  const letGo = (when: string) => () =>
    options.log.info(`${when}: batches queued ahead are let go and fetched again`, {
      dropped: ahead.dropQueued(),
    });
  consumer.on(consumer.events.REBALANCING, letGo("the group is rebalancing"));
  consumer.on(consumer.events.GROUP_JOIN, letGo("joined the group"));
  return ahead;
}

/**
 * Queues a batch kafkajs handed over, as `item`; once taken, its offset is resolved so kafkajs
 * fetches on from there (it is committed only once applied). With `untilApplied`, it returns
 * only once the batch was applied (heartbeating meanwhile; its commit need not have been
 * answered), so kafkajs does not fetch ahead: for a consumer that is not behind, where
 * fetching again at once would bring a few messages at a time.
 */
export async function queueBatch<T>(
  ahead: ApplyAhead<T>,
  payload: EachBatchPayload,
  item: T,
  untilApplied = false,
): Promise<void> {
  const { batch, heartbeat, isRunning, isStale, resolveOffset } = payload;
  const last = batch.lastOffset();
  let settle: (applied: boolean) => void = () => {};
  const settled = untilApplied ? new Promise<boolean>((resolve) => (settle = resolve)) : undefined;
  const taken = await ahead.enqueue(
    {
      topic: batch.topic,
      partition: batch.partition,
      nextOffset: String(BigInt(last) + 1n),
      item,
      ...(settled ? { settled: (applied: boolean) => settle(applied) } : {}),
    },
    { heartbeat, stale: () => !isRunning() || isStale() },
  );
  if (!taken) return;
  resolveOffset(last);
  if (!settled) return;
  while (!(await within(settled, HEARTBEAT_EVERY_MS))) await heartbeat();
}

/** True once `promise` settled, false if `ms` passed first. */
function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void promise.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
