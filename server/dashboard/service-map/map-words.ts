// The service map's words: counts, plurals, durations and a breaker's state as read aloud.
import type { ShownBreakerState } from "../../../browser-safe/map-tones.ts";

export const count = (n: number) => n.toLocaleString("en-US");
export const plural = (n: number, one: string, many = `${one}s`) => `${count(n)} ${n === 1 ? one : many}`;
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}
export const stateWords = (shown: ShownBreakerState, forced: boolean) =>
  `${forced ? "forced " : ""}${shown.replace("_", "-")}`;
