// One partition's batch handled key by key, without Kafka: a key's messages in order, keys
// side by side up to the bound, offsets resolved only up to the first unfinished message, an
// early stop and a failure each leave the rest unhandled and unresolved.
import { describe, expect, it } from "vitest";
import { countBound } from "./count-bound.ts";
import { handleKeyOrdered, type KeyedMessage } from "./key-ordered.ts";

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Messages at offsets 0, 1, 2… with the given keys (null: no key). */
const batch = (...keys: (string | null)[]): KeyedMessage[] =>
  keys.map((key, offset) => ({ offset: String(offset), key: key === null ? null : Buffer.from(key) }));

/** Each handled message waits for the test to release it by offset (or to fail it). */
function controlled(messages: KeyedMessage[], options: { concurrency: number; stopped?: () => boolean }) {
  const started: string[] = [];
  const resolved: string[] = [];
  const gates = new Map<string, { open: () => void; fail: (e: Error) => void }>();
  const run = handleKeyOrdered(messages, {
    concurrency: options.concurrency,
    handle: (m) =>
      new Promise<void>((open, fail) => {
        started.push(m.offset);
        gates.set(m.offset, { open, fail });
      }),
    resolved: (offset) => resolved.push(offset),
    stopped: options.stopped ?? (() => false),
    heartbeat: async () => {},
  });
  // A failure is looked at when the test awaits it, not reported as unhandled before then.
  run.catch(() => {});
  const release = async (offset: string) => {
    gates.get(offset)?.open();
    for (let i = 0; i < 5; i += 1) await tick();
  };
  const fail = async (offset: string, error: Error) => {
    gates.get(offset)?.fail(error);
    for (let i = 0; i < 5; i += 1) await tick();
  };
  return { run, started, resolved, release, fail };
}

describe("handleKeyOrdered", () => {
  it("handles different keys at once, one key's messages in order, up to the bound", async () => {
    const c = controlled(batch("a", "b", "a", "c", "b"), { concurrency: 2 });
    await tick();
    // Keys a and b start; c waits for a free lane; a's second message waits for its first.
    expect(c.started).toEqual(["0", "1"]);
    await c.release("1");
    expect(c.started).toEqual(["0", "1", "4"]);
    await c.release("0");
    expect(c.started).toEqual(["0", "1", "4", "2"]);
    for (const offset of ["4", "2"]) await c.release(offset);
    expect(c.started).toContain("3");
    await c.release("3");
    await c.run;
    expect(c.resolved.at(-1)).toBe("4");
  });

  it("resolves offsets only up to the first message not yet handled", async () => {
    const c = controlled(batch("a", "b", "c"), { concurrency: 3 });
    await tick();
    await c.release("2");
    await c.release("1");
    // Offset 0 is still being handled: nothing may be committed past it.
    expect(c.resolved).toEqual([]);
    await c.release("0");
    expect(c.resolved).toEqual(["2"]);
    await c.run;
  });

  it("keeps messages without a key in their order among themselves", async () => {
    const c = controlled(batch(null, "a", null), { concurrency: 4 });
    await tick();
    expect(c.started).toEqual(["0", "1"]);
    await c.release("0");
    expect(c.started).toEqual(["0", "1", "2"]);
    await c.release("1");
    await c.release("2");
    await c.run;
    expect(c.resolved.at(-1)).toBe("2");
  });

  it("starts nothing more once stopped, and resolves only what was handled", async () => {
    let stopped = false;
    const c = controlled(batch("a", "a", "b", "b"), { concurrency: 1, stopped: () => stopped });
    await tick();
    stopped = true;
    await c.release("0");
    await c.run;
    expect(c.started).toEqual(["0"]);
    expect(c.resolved).toEqual(["0"]);
  });

  it("throws a handler's error after the messages in hand finished, the prefix resolved", async () => {
    const c = controlled(batch("a", "b", "a", "b"), { concurrency: 2 });
    await tick();
    await c.release("0");
    await c.fail("1", new Error("database gone"));
    // The other lane's message in hand (offset 2) finishes; nothing new starts.
    expect(c.started).toEqual(["0", "1", "2"]);
    await c.release("2");
    await expect(c.run).rejects.toThrow("database gone");
    expect(c.resolved).toEqual(["0"]);
  });

  it("refuses a bound below one key, when set and when run", async () => {
    expect(() => countBound("keysConcurrently", 0)).toThrow(
      "keysConcurrently must be a whole number ≥ 1, got 0",
    );
    expect(() => countBound("keysConcurrently", 1.5)).toThrow(RangeError);
    expect(countBound("keysConcurrently", 3)).toBe(3);
    await expect(
      handleKeyOrdered(batch("a"), {
        concurrency: 0,
        handle: async () => {},
        resolved: () => {},
        stopped: () => false,
        heartbeat: async () => {},
      }),
    ).rejects.toThrow(RangeError);
  });
});
