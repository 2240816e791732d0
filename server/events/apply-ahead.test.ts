// The queue between a consumer's fetches and its applies, without Kafka: batches of a
// partition are applied in order, a few partitions at once, each offset committed only after
// its batch was applied (in turn, without holding up the next batch); a full queue holds the consumer back (heartbeating); a failed batch
// is applied again before any later batch of its partition; a partition's batches that
// queued up while it was busy are applied together; a rebalance forgets what was queued;
// closing waits for what is being applied.

import type { EachBatchPayload } from "kafkajs";
import { describe, expect, it } from "vitest";
import { createLogger } from "../log.ts";
import { type ApplyAhead, createApplyAhead, type QueuedBatch, queueBatch } from "./apply-ahead.ts";

const log = createLogger("apply-ahead-test", "error");
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
const notWaiting = { heartbeat: async () => {}, stale: () => false };

/** A gate the test opens: the batch's apply resolves (or throws) when told. */
function gate() {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

function recorder(
  options: { concurrency?: number; maxHeld?: number; maxTogether?: number; heldCommits?: boolean } = {},
) {
  const events: string[] = [];
  const gates = new Map<string, ReturnType<typeof gate>[]>();
  /** With heldCommits, each commit waits on a gate of its own, named by its batch, until the test opens it. */
  const commitGates = new Map<string, ReturnType<typeof gate>>();
  const ahead: ApplyAhead<string> = createApplyAhead<string>({
    /** Every attempt waits on a gate of its own, opened by the test, named by its batches. */
    apply: (names) => {
      const name = names.join("+");
      const g = gate();
      gates.set(name, [...(gates.get(name) ?? []), g]);
      events.push(`apply ${name}`);
      return g.promise;
    },
    concurrency: options.concurrency ?? 2,
    maxHeld: options.maxHeld ?? 100,
    maxTogether: options.maxTogether ?? 1,
    retryFirstMs: 5,
    retryMaxMs: 20,
    log,
    commit: async (topic, partition, offset) => {
      const name = `${topic}/${partition}@${offset}`;
      events.push(`commit ${name}`);
      if (!options.heldCommits) return;
      const g = gate();
      commitGates.set(name, g);
      await g.promise;
      events.push(`committed ${name}`);
    },
  });
  const batch = (topic: string, partition: number, nextOffset: number): QueuedBatch<string> => ({
    topic,
    partition,
    nextOffset: String(nextOffset),
    item: `${topic}/${partition}@${nextOffset}`,
  });
  /** The newest attempt of a batch, once it has started. */
  const attempt = async (name: string) => {
    for (let i = 0; i < 200; i++) {
      const g = gates.get(name)?.at(-1);
      if (g) return g;
      await tick();
    }
    throw new Error(`${name} never started`);
  };
  return { ahead, events, batch, attempt, gates, commitGates };
}

describe("apply-ahead", () => {
  it("applies a partition's batches in order, commits each after its apply, and works on partitions at once", async () => {
    const { ahead, events, batch, attempt } = recorder({ concurrency: 2 });
    await ahead.enqueue(batch("t", 0, 10), notWaiting);
    await ahead.enqueue(batch("t", 0, 20), notWaiting);
    await ahead.enqueue(batch("t", 1, 10), notWaiting);
    await ahead.enqueue(batch("t", 2, 10), notWaiting);
    await tick();
    // Two partitions at once; partition 0's second batch waits for its first.
    expect(events).toEqual(["apply t/0@10", "apply t/1@10"]);
    expect(ahead.counts()).toEqual({ held: 4, applying: 2 });
    (await attempt("t/1@10")).open();
    await tick();
    expect(events).toEqual(["apply t/0@10", "apply t/1@10", "commit t/1@10", "apply t/2@10"]);
    (await attempt("t/0@10")).open();
    (await attempt("t/0@20")).open();
    (await attempt("t/2@10")).open();
    for (let i = 0; i < 10; i++) await tick();
    const zero = events.filter((e) => e.includes("t/0@"));
    expect(zero).toEqual(["apply t/0@10", "commit t/0@10", "apply t/0@20", "commit t/0@20"]);
    expect(ahead.counts()).toEqual({ held: 0, applying: 0 });
  });

  it("a failed batch is applied again before the later ones of its partition, and nothing is committed until it holds", async () => {
    const { ahead, events, batch, attempt, gates } = recorder({ concurrency: 1 });
    await ahead.enqueue(batch("t", 0, 10), notWaiting);
    await ahead.enqueue(batch("t", 0, 20), notWaiting);
    (await attempt("t/0@10")).fail(new Error("connection terminated"));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(gates.get("t/0@10")?.length).toBe(2);
    expect(events).toEqual(["apply t/0@10", "apply t/0@10"]);
    (await attempt("t/0@10")).open();
    (await attempt("t/0@20")).open();
    for (let i = 0; i < 10; i++) await tick();
    expect(events).toEqual([
      "apply t/0@10",
      "apply t/0@10",
      "commit t/0@10",
      "apply t/0@20",
      "commit t/0@20",
    ]);
  });

  it("a partition's batches that queued up while it was busy are applied together, up to the bound, and committed at the last", async () => {
    const { ahead, events, batch, attempt } = recorder({ concurrency: 1, maxTogether: 3 });
    for (const offset of [10, 20, 30, 40, 50]) await ahead.enqueue(batch("t", 0, offset), notWaiting);
    (await attempt("t/0@10")).open();
    // The three that waited go together; a rebalance meanwhile keeps all three.
    const together = await attempt("t/0@20+t/0@30+t/0@40");
    expect(ahead.dropQueued()).toBe(1);
    expect(ahead.counts()).toEqual({ held: 3, applying: 1 });
    // A failed joint apply is tried again with the same batches, the next one not joining it.
    await ahead.enqueue(batch("t", 0, 50), notWaiting);
    together.fail(new Error("connection terminated"));
    await new Promise((resolve) => setTimeout(resolve, 30));
    (await attempt("t/0@20+t/0@30+t/0@40")).open();
    (await attempt("t/0@50")).open();
    for (let i = 0; i < 10; i++) await tick();
    expect(events).toEqual([
      "apply t/0@10",
      "commit t/0@10",
      "apply t/0@20+t/0@30+t/0@40",
      "apply t/0@20+t/0@30+t/0@40",
      "commit t/0@40",
      "apply t/0@50",
      "commit t/0@50",
    ]);
    expect(ahead.counts()).toEqual({ held: 0, applying: 0 });
  });

  it("refuses bounds that are not a whole number of batches, at least 1", () => {
    const base = {
      apply: async () => {},
      commit: async () => {},
      log,
      concurrency: 1,
      maxHeld: 1,
      maxTogether: 1,
    };
    expect(() => createApplyAhead({ ...base, maxTogether: 0 })).toThrow(
      "maxTogether must be a whole number ≥ 1, got 0",
    );
    expect(() => createApplyAhead({ ...base, concurrency: 1.5 })).toThrow(
      "concurrency must be a whole number ≥ 1, got 1.5",
    );
    expect(() => createApplyAhead({ ...base, maxHeld: Number.NaN })).toThrow(
      "maxHeld must be a whole number ≥ 1, got NaN",
    );
    expect(() => createApplyAhead(base)).not.toThrow();
  });

  it("a full queue holds the consumer back, heartbeating, until a batch is done", async () => {
    const { ahead, batch, attempt } = recorder({ concurrency: 1, maxHeld: 2 });
    await ahead.enqueue(batch("t", 0, 10), notWaiting);
    await ahead.enqueue(batch("t", 0, 20), notWaiting);
    let beats = 0;
    let taken: boolean | undefined;
    const third = ahead
      .enqueue(batch("t", 0, 30), {
        heartbeat: async () => {
          beats += 1;
        },
        stale: () => false,
      })
      .then((t) => {
        taken = t;
      });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(taken).toBeUndefined();
    expect(beats).toBeGreaterThanOrEqual(1);
    (await attempt("t/0@10")).open();
    await third;
    expect(taken).toBe(true);
    expect(ahead.counts().held).toBe(2);
    (await attempt("t/0@20")).open();
    (await attempt("t/0@30")).open();
    await ahead.close();
  });

  it("a batch that turned stale while it waited is not taken", async () => {
    const { ahead, events, batch, attempt } = recorder({ concurrency: 1, maxHeld: 1 });
    await ahead.enqueue(batch("t", 0, 10), notWaiting);
    let stale = false;
    const waiting = ahead.enqueue(batch("t", 0, 20), { heartbeat: async () => {}, stale: () => stale });
    stale = true;
    (await attempt("t/0@10")).open();
    await expect(waiting).resolves.toBe(false);
    await ahead.close();
    expect(events).toEqual(["apply t/0@10", "commit t/0@10"]);
  });

  it("after a rebalance, the queued batches are forgotten and the one being applied finishes and commits", async () => {
    const { ahead, events, batch, attempt } = recorder({ concurrency: 1 });
    await ahead.enqueue(batch("t", 0, 10), notWaiting);
    await ahead.enqueue(batch("t", 0, 20), notWaiting);
    await ahead.enqueue(batch("t", 1, 10), notWaiting);
    expect(ahead.dropQueued()).toBe(2);
    expect(ahead.counts().held).toBe(1);
    (await attempt("t/0@10")).open();
    for (let i = 0; i < 10; i++) await tick();
    expect(events).toEqual(["apply t/0@10", "commit t/0@10"]);
    expect(ahead.counts()).toEqual({ held: 0, applying: 0 });
  });

  it("closing takes nothing more, stops a retrying batch without committing it, and waits for the batch being applied", async () => {
    const { ahead, events, batch, attempt } = recorder({ concurrency: 2 });
    await ahead.enqueue(batch("t", 0, 10), notWaiting);
    await ahead.enqueue(batch("t", 1, 10), notWaiting);
    (await attempt("t/0@10")).fail(new Error("connection terminated"));
    await tick();
    let closed = false;
    const closing = ahead.close().then(() => {
      closed = true;
    });
    expect(await ahead.enqueue(batch("t", 2, 10), notWaiting)).toBe(false);
    await tick();
    expect(closed).toBe(false);
    (await attempt("t/1@10")).open();
    await closing;
    expect(events.filter((e) => e.startsWith("commit"))).toEqual(["commit t/1@10"]);
    expect(events.filter((e) => e.includes("t/2@"))).toEqual([]);
  });

  it("a commit on its way does not hold up the partition's next batch; its commits go in turn, and closing waits for them", async () => {
    const { ahead, events, batch, attempt, commitGates } = recorder({ concurrency: 1, heldCommits: true });
    await ahead.enqueue(batch("t", 0, 10), notWaiting);
    await ahead.enqueue(batch("t", 0, 20), notWaiting);
    (await attempt("t/0@10")).open();
    (await attempt("t/0@20")).open();
    for (let i = 0; i < 10; i++) await tick();
    // The second batch was applied while the first one's commit was unanswered; its own waits.
    expect(events).toEqual(["apply t/0@10", "commit t/0@10", "apply t/0@20"]);
    expect(ahead.counts()).toEqual({ held: 0, applying: 0 });
    let closed = false;
    const closing = ahead.close().then(() => {
      closed = true;
    });
    commitGates.get("t/0@10")?.open();
    for (let i = 0; i < 10; i++) await tick();
    expect(events.slice(3)).toEqual(["committed t/0@10", "commit t/0@20"]);
    expect(closed).toBe(false);
    commitGates.get("t/0@20")?.open();
    await closing;
    expect(events.slice(5)).toEqual(["committed t/0@20"]);
  });

  it("tells each batch once when it is done with: applied (its commit on its way) or let go by a rebalance or a close", async () => {
    const { ahead, events, batch, attempt } = recorder({ concurrency: 1 });
    const told: string[] = [];
    const telling = (b: QueuedBatch<string>) => ({
      ...b,
      settled: (applied: boolean) => told.push(`${b.item} ${applied}`),
    });
    await ahead.enqueue(telling(batch("t", 0, 10)), notWaiting);
    await ahead.enqueue(telling(batch("t", 0, 20)), notWaiting);
    expect(ahead.dropQueued()).toBe(1);
    expect(told).toEqual(["t/0@20 false"]);
    (await attempt("t/0@10")).open();
    for (let i = 0; i < 10; i++) await tick();
    expect(told).toEqual(["t/0@20 false", "t/0@10 true"]);
    expect(events).toEqual(["apply t/0@10", "commit t/0@10"]);
    await ahead.enqueue(telling(batch("t", 1, 10)), notWaiting);
    await ahead.enqueue(telling(batch("t", 1, 20)), notWaiting);
    const closing = ahead.close();
    (await attempt("t/1@10")).open();
    await closing;
    expect(told).toEqual(["t/0@20 false", "t/0@10 true", "t/1@10 true", "t/1@20 false"]);
  });

  it("until applied, a handed batch returns only once applied, heartbeating while it waits", async () => {
    const { ahead, events, batch, attempt } = recorder({ concurrency: 1 });
    let beats = 0;
    const resolved: string[] = [];
    const payload = (offset: number) =>
      ({
        batch: { topic: "t", partition: 0, lastOffset: () => String(offset) },
        heartbeat: async () => {
          beats += 1;
        },
        isRunning: () => true,
        isStale: () => false,
        resolveOffset: (o: string) => resolved.push(o),
      }) as unknown as EachBatchPayload;
    let returned = false;
    const handing = queueBatch(ahead, payload(9), batch("t", 0, 10).item, true).then(() => {
      returned = true;
    });
    const g = await attempt("t/0@10");
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(returned).toBe(false);
    expect(beats).toBeGreaterThanOrEqual(1);
    expect(resolved).toEqual(["9"]);
    g.open();
    await handing;
    expect(events).toEqual(["apply t/0@10", "commit t/0@10"]);
    // Without waiting, it returns once taken, before the batch is applied.
    await queueBatch(ahead, payload(19), batch("t", 0, 20).item);
    expect(events).toEqual(["apply t/0@10", "commit t/0@10", "apply t/0@20"]);
    (await attempt("t/0@20")).open();
    await ahead.close();
  });
});
