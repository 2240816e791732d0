// What proposed thresholds would have done: the pair's last hour of recorded outcomes (the
// newest up to the cap, however many a busy pair recorded) replayed against them and against
// the current thresholds, as the Redis breaker would with the same calls.
import type { Thresholds } from "../../browser-safe/breaker-thresholds.ts";
import type { BreakerStore } from "../breakers/index.ts";
import type { Pool } from "../db/pool.ts";
import { mergedConfig } from "./breaker-actions.ts";
import { recordedWindows } from "./recorded-windows.ts";
import { MAX_WHAT_IF_CALLS, newestWithin, replay, spreadCalls } from "./what-if.ts";

/** How far back a what-if replays. */
export const WHAT_IF_MS = 3600_000;

export async function breakerWhatIf(
  deps: { pool: Pool; breakerStore: BreakerStore },
  pair: string,
  thresholds: Thresholds,
  now = Date.now(),
) {
  const current = await deps.breakerStore.readConfig(pair);
  const config = mergedConfig(current, thresholds);
  const recorded = await recordedWindows(deps.pool, pair, new Date(now - WHAT_IF_MS), new Date(now));
  const { windows, recordedCalls, leftOut } = newestWithin(recorded);
  const calls = spreadCalls(windows);
  const from = windows[0]?.start.getTime() ?? now - WHAT_IF_MS;
  return {
    windows: windows.length,
    calls: calls.length,
    recordedCalls,
    limitedTo: leftOut ? MAX_WHAT_IF_CALLS : null,
    from: new Date(from),
    to: new Date(now),
    proposed: replay(calls, config, from),
    current: replay(calls, current, from),
  };
}
