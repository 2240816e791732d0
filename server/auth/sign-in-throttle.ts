// Slows password guessing without letting anyone lock an account out. Every attempt is
// counted before its password is checked (so guesses sent at once are all counted), in
// Postgres (so every web instance shares the counts), under three keys: the account, the
// client address (when a trusted proxy names it) and the two together. Past a key's free
// attempts, the next one waits a delay that doubles with each attempt, up to a cap; the
// account's cap is short (30 s), so an attacker guessing at someone's account can only slow
// its owner, while the attacker's own address and pair wait up to 15 minutes. A success
// clears the account's and the pair's counts (not the address's: signing into one's own
// account must not reset a guesser's address). Counts are forgotten 15 minutes after a key's
// last attempt.
import type { Pool } from "../db/pool.ts";
import { withTransaction } from "../db/transaction.ts";

export interface ThrottleRule {
  /** Attempts allowed before any waiting. */
  free: number;
  /** The first wait after the free attempts; each further attempt doubles it. */
  baseMs: number;
  capMs: number;
}

export const THROTTLE_RULES = {
  account: { free: 10, baseMs: 1_000, capMs: 30_000 },
  address: { free: 20, baseMs: 1_000, capMs: 15 * 60_000 },
  pair: { free: 5, baseMs: 1_000, capMs: 15 * 60_000 },
} as const satisfies Record<string, ThrottleRule>;

/** Counts older than this (since a key's last attempt) start again from zero. */
export const FORGET_AFTER_MS = 15 * 60_000;

type KeyKind = keyof typeof THROTTLE_RULES;

export interface AttemptKeys {
  email: string;
  /** The client's address, when a trusted proxy names it. */
  address?: string | undefined;
}

function keysOf({ email, address }: AttemptKeys): { key: string; kind: KeyKind }[] {
  const account = email.trim().toLowerCase();
  return [
    { key: `account:${account}`, kind: "account" },
    ...(address
      ? [
          { key: `address:${address}`, kind: "address" as const },
          { key: `pair:${account}|${address}`, kind: "pair" as const },
        ]
      : []),
  ];
}

/** How long a key with `attempts` counted, the last at `lastAt`, must still wait. */
export function waitFor(rule: ThrottleRule, attempts: number, lastAt: number, now: number): number {
  if (now - lastAt >= FORGET_AFTER_MS || attempts < rule.free) return 0;
  const delay = Math.min(rule.capMs, rule.baseMs * 2 ** Math.min(30, attempts - rule.free));
  return Math.max(0, lastAt + delay - now);
}

/**
 * Claims one attempt: counted under every key and allowed (0), or refused with the
 * milliseconds to wait (not counted). Rows are locked in key order, so concurrent claims queue.
 */
export async function claimSignInAttempt(
  pool: Pool,
  attempt: AttemptKeys,
  now = Date.now(),
): Promise<number> {
  const keys = keysOf(attempt).sort((a, b) => a.key.localeCompare(b.key));
  return withTransaction(pool, async (client) => {
    await client.query(
      `INSERT INTO sign_in_throttle (key, attempts, last_at)
       SELECT unnest($1::text[]), 0, to_timestamp(0) ON CONFLICT (key) DO NOTHING`,
      [keys.map((k) => k.key)],
    );
    const { rows } = await client.query<{ key: string; attempts: number; last_at: Date }>(
      "SELECT key, attempts, last_at FROM sign_in_throttle WHERE key = ANY($1) ORDER BY key FOR UPDATE",
      [keys.map((k) => k.key)],
    );
    const byKey = new Map(rows.map((r) => [r.key, r]));
    let wait = 0;
    for (const { key, kind } of keys) {
      const row = byKey.get(key);
      if (row) wait = Math.max(wait, waitFor(THROTTLE_RULES[kind], row.attempts, row.last_at.getTime(), now));
    }
    if (wait > 0) return wait;
    await client.query(
      `UPDATE sign_in_throttle
       SET attempts = CASE WHEN last_at < $2::timestamptz - make_interval(secs => $3::float8 / 1000) THEN 1 ELSE attempts + 1 END,
           last_at = $2
       WHERE key = ANY($1)`,
      [keys.map((k) => k.key), new Date(now), FORGET_AFTER_MS],
    );
    return 0;
  });
}

/** The attempt proved good: the account's and the pair's counts start again. */
export async function signInSucceeded(pool: Pick<Pool, "query">, attempt: AttemptKeys): Promise<void> {
  const keys = keysOf(attempt).filter((k) => k.kind !== "address");
  await pool.query("DELETE FROM sign_in_throttle WHERE key = ANY($1)", [keys.map((k) => k.key)]);
}

/** Drops counts nobody needs any more (called now and then by the sign-in route). */
export async function forgetOldAttempts(pool: Pick<Pool, "query">, now = Date.now()): Promise<void> {
  await pool.query("DELETE FROM sign_in_throttle WHERE last_at < $1", [new Date(now - FORGET_AFTER_MS)]);
}

/**
 * The client's address as the trusted proxies in front report it: with `hops` proxies, each
 * appending the address it was connected from to X-Forwarded-For, the client is the hops-th
 * entry from the right (entries further left were written by the client and prove nothing).
 * With no trusted proxy (0) there is no address: the web server cannot tell a client-set
 * header from its own.
 */
export function clientAddress(forwardedFor: string | null, hops: number): string | undefined {
  if (hops <= 0 || !forwardedFor) return undefined;
  const entries = forwardedFor
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean);
  const address = entries[entries.length - hops];
  return address && /^[0-9a-fA-F.:]{2,45}$/.test(address) ? address : undefined;
}
