// What a saga page derives from all of a long saga's events (the timeline, the compensation
// plan, the breaker rejections, the declared steps, the events' order), kept for a minute per
// saga while the saga does not change. An open page asks again every few seconds; a saga of
// thousands of events is then outlined once, not on every refresh. A saga changes with every
// stored event (its event count and last progress move), and its entry with it.
import type { ControlAction } from "../../events/index.ts";
import type { CompensationStep } from "../../saga-rules/saga-allowance.ts";
import type { FoldedTimeline } from "./fold-timeline.ts";
import type { BreakerRejection } from "./saga-breakers.ts";
import type { SagaEventView } from "./saga-dto.ts";

/** Sagas kept, least recently used out first. */
export const OUTLINE_CACHE_SAGAS = 64;
/** An entry is outlined again after this, changed or not (events dropped by retention, say). */
export const OUTLINE_CACHE_TTL_MS = 60_000;

export interface SagaOutlineDigest {
  eventsRead: number;
  steps: { name: string; service: string }[];
  /** The commands its runtime answers, when its start declared them. */
  controls: ControlAction[] | null;
  /** The input its start declared; null when it declared none (or its start was not read). */
  originalInput: Record<string, unknown> | null;
  timeline: FoldedTimeline;
  rejections: BreakerRejection[];
  plan: CompensationStep[];
  /** Where each event sits in Kafka, in the saga's order: the events table's pages are read by it. */
  order: SagaEventView["kafka"][];
}

/** The saga as its summary says it is now: an entry of another version is stale. */
export interface SagaVersion {
  eventCount: number;
  lastProgressAt: Date;
}

export interface OutlineCache {
  get(sagaId: string, version: SagaVersion, now?: number): SagaOutlineDigest | undefined;
  set(sagaId: string, version: SagaVersion, digest: SagaOutlineDigest, now?: number): void;
}

const versionKey = (v: SagaVersion) => `${v.eventCount}@${v.lastProgressAt.getTime()}`;

export function createOutlineCache(
  maxSagas = OUTLINE_CACHE_SAGAS,
  ttlMs = OUTLINE_CACHE_TTL_MS,
): OutlineCache {
  // A Map iterates in insertion order: re-inserting on use keeps the least recently used first.
  const entries = new Map<string, { version: string; at: number; digest: SagaOutlineDigest }>();
  return {
    get(sagaId, version, now = Date.now()) {
      const entry = entries.get(sagaId);
      if (!entry) return undefined;
      entries.delete(sagaId);
      if (entry.version !== versionKey(version) || now - entry.at > ttlMs) return undefined;
      entries.set(sagaId, entry);
      return entry.digest;
    },
    set(sagaId, version, digest, now = Date.now()) {
      entries.delete(sagaId);
      entries.set(sagaId, { version: versionKey(version), at: now, digest });
      while (entries.size > maxSagas) entries.delete(entries.keys().next().value as string);
    },
  };
}
