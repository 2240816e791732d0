// The sign-in throttle against Postgres: guesses sent at once are all counted; the waits
// double up to each key's cap, so an account's owner is only ever slowed (never locked out)
// while the guesser's own address waits longer; a success clears the account and the pair but
// not the address; only a trusted proxy's entry of X-Forwarded-For names the client.
import { describe, expect, it } from "vitest";
import { migratedStore } from "../../scripts/test/infra.ts";
import {
  claimSignInAttempt,
  clientAddress,
  FORGET_AFTER_MS,
  forgetOldAttempts,
  signInSucceeded,
  THROTTLE_RULES,
  waitFor,
} from "./sign-in-throttle.ts";

const store = migratedStore("throttle", 8);

describe("the sign-in throttle", () => {
  it("counts guesses sent at once before any password is checked: only the free ones go ahead", async () => {
    const attempt = { email: "target@example.test", address: "203.0.113.7" };
    const now = Date.now();
    const waits = await Promise.all(
      Array.from({ length: 12 }, () => claimSignInAttempt(store.pool(), attempt, now)),
    );
    expect(waits.filter((w) => w === 0)).toHaveLength(THROTTLE_RULES.pair.free);
    expect(Math.min(...waits.filter((w) => w > 0))).toBe(THROTTLE_RULES.pair.baseMs);
  });

  it("doubles the wait up to the cap: the account's owner is slowed at most 30 s, the guesser's address 15 min", async () => {
    const account = THROTTLE_RULES.account;
    expect(waitFor(account, account.free - 1, 0, 0)).toBe(0);
    expect(waitFor(account, account.free, 0, 0)).toBe(1_000);
    expect(waitFor(account, account.free + 3, 0, 0)).toBe(8_000);
    expect(waitFor(account, 10_000, 0, 0)).toBe(30_000);
    expect(waitFor(THROTTLE_RULES.pair, 10_000, 0, 0)).toBe(15 * 60_000);
    // Forgotten after a quiet while.
    expect(waitFor(account, 10_000, 0, FORGET_AFTER_MS)).toBe(0);

    // A guesser at someone's account from one address, as fast as allowed, for a long time.
    const victim = "victim@example.test";
    let now = Date.now();
    for (let counted = 0; counted < 60; ) {
      const wait = await claimSignInAttempt(store.pool(), { email: victim, address: "198.51.100.9" }, now);
      if (wait === 0) counted += 1;
      now += wait;
    }
    // The owner, elsewhere, right after a guess: waits the account's cap at most, then gets in.
    const owner = { email: victim, address: "192.0.2.44" };
    const ownerWait = await claimSignInAttempt(store.pool(), owner, now);
    expect(ownerWait).toBe(account.capMs);
    expect(await claimSignInAttempt(store.pool(), owner, now + ownerWait)).toBe(0);
    // The guesser's own pair waits its long cap.
    expect(
      await claimSignInAttempt(store.pool(), { email: victim, address: "198.51.100.9" }, now + ownerWait),
    ).toBeGreaterThan(account.capMs);
  });

  it("a success clears the account and the pair but not the address; old counts are dropped", async () => {
    const address = "203.0.113.80";
    const now = Date.now();
    for (let i = 0; i < THROTTLE_RULES.address.free; i++)
      expect(await claimSignInAttempt(store.pool(), { email: `spray-${i}@example.test`, address }, now)).toBe(
        0,
      );
    expect(
      await claimSignInAttempt(store.pool(), { email: "own@example.test", address }, now),
    ).toBeGreaterThan(0);
    await signInSucceeded(store.pool(), { email: "spray-1@example.test", address });
    expect(
      await claimSignInAttempt(store.pool(), { email: "own@example.test", address }, now),
    ).toBeGreaterThan(0);
    await forgetOldAttempts(store.pool(), now + FORGET_AFTER_MS + 1);
    const { rows } = await store
      .pool()
      .query(
        "SELECT count(*)::int AS n FROM sign_in_throttle WHERE key LIKE '%spray-%' OR key LIKE '%203.0.113.80'",
      );
    expect(rows[0].n).toBe(0);
  });

  it("takes the client's address only from trusted proxies' entries of X-Forwarded-For", () => {
    expect(clientAddress("6.6.6.6", 0)).toBeUndefined();
    expect(clientAddress("6.6.6.6, 203.0.113.5", 1)).toBe("203.0.113.5");
    expect(clientAddress("6.6.6.6, 203.0.113.5, 10.0.0.2", 2)).toBe("203.0.113.5");
    expect(clientAddress("203.0.113.5", 2)).toBeUndefined();
    expect(clientAddress("not-an-address", 1)).toBeUndefined();
    expect(clientAddress(null, 1)).toBeUndefined();
  });
});
