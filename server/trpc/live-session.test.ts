// A live feed ends when its session does: UNAUTHORIZED once the session no longer holds, and
// nothing while it does.
import { EventEmitter, on } from "node:events";
import { describe, expect, it } from "vitest";
import { whileSignedIn } from "./live-session.ts";

async function* ticks(emitter: EventEmitter, signal: AbortSignal) {
  try {
    for await (const [n] of on(emitter, "tick", { signal })) yield n as number;
  } catch (error) {
    if ((error as Error).name !== "AbortError") throw error;
  }
}

describe("a live feed and its session", () => {
  it("delivers while the session holds and ends with UNAUTHORIZED when it is revoked", async () => {
    const emitter = new EventEmitter();
    let holds = true;
    const feed = whileSignedIn({ stillSignedIn: async () => holds }, undefined, (s) => ticks(emitter, s), 20);
    const seen: number[] = [];
    const done = (async () => {
      for await (const n of feed) seen.push(n);
    })();
    await new Promise((resolve) => setTimeout(resolve, 60));
    emitter.emit("tick", 1);
    emitter.emit("tick", 2);
    await new Promise((resolve) => setTimeout(resolve, 60));
    holds = false;
    await expect(done).rejects.toMatchObject({
      code: "UNAUTHORIZED",
      message: expect.stringContaining("signed out"),
    });
    expect(seen).toEqual([1, 2]);
  });

  it("ends quietly when the client goes away", async () => {
    const controller = new AbortController();
    const feed = whileSignedIn({ stillSignedIn: async () => true }, controller.signal, (s) =>
      ticks(new EventEmitter(), s),
    );
    setTimeout(() => controller.abort(), 30);
    const items: number[] = [];
    for await (const n of feed) items.push(n);
    expect(items).toEqual([]);
  });
});
