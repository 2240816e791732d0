// Handles one partition's batch with messages of different keys side by side and each key's
// messages in their order: Kafka orders a partition, but a consumer whose unit of order is the
// key (a saga lives under one key) need not make one key wait behind another's transaction.
// Offsets are resolved only up to the first message not yet handled, so a crash re-reads
// from there and nothing after an unfinished message is ever committed.

import { countBound } from "./count-bound.ts";

export interface KeyedMessage {
  offset: string;
  key: Buffer | null;
}

export interface KeyOrderedRun<M extends KeyedMessage> {
  /** At most this many keys are handled at once (a whole number ≥ 1). */
  concurrency: number;
  handle(message: M): Promise<void>;
  /** Called with the offset of the last message of the handled prefix whenever it grows. */
  resolved(offset: string): void;
  /** True once the batch must end early (the consumer stops, or the partition moved away). */
  stopped(): boolean;
  /** Called after each handled message: a long batch keeps the group membership alive. */
  heartbeat(): Promise<void>;
}

/** Messages without a key share one lane, so they keep their order among themselves. */
const laneOf = (key: Buffer | null) => (key === null ? "\u0000no-key" : key.toString("latin1"));

/**
 * Resolves once every message was handled, or once `stopped()` turned true and the messages
 * in hand finished. A handler's error ends the batch the same way and is thrown after the
 * messages in hand finished and the handled prefix was resolved.
 */
export async function handleKeyOrdered<M extends KeyedMessage>(
  messages: readonly M[],
  run: KeyOrderedRun<M>,
): Promise<void> {
  countBound("concurrency", run.concurrency);
  const lanes = new Map<string, number[]>();
  messages.forEach((message, index) => {
    const lane = laneOf(message.key);
    const queue = lanes.get(lane);
    if (queue) queue.push(index);
    else lanes.set(lane, [index]);
  });
  const waiting = [...lanes.values()];
  const done = new Array<boolean>(messages.length).fill(false);
  let prefix = 0;
  let failure: { error: unknown } | undefined;
  const ended = () => failure !== undefined || run.stopped();

  const advance = () => {
    const before = prefix;
    while (prefix < messages.length && done[prefix]) prefix += 1;
    if (prefix > before) run.resolved((messages[prefix - 1] as M).offset);
  };

  async function worker() {
    for (let lane = waiting.shift(); lane; lane = waiting.shift()) {
      for (const index of lane) {
        if (ended()) return;
        try {
          await run.handle(messages[index] as M);
          done[index] = true;
          advance();
          // Throws while the group rebalances: the batch ends and the partition may move.
          await run.heartbeat();
        } catch (error) {
          failure ??= { error };
          return;
        }
      }
    }
  }

  await Promise.all(Array.from({ length: Math.min(run.concurrency, waiting.length) }, worker));
  if (failure) throw failure.error;
}
