// Turns a saga's events into timeline bars: one per step attempt and per compensation
// attempt, in the order they happened, with their outcome. Pure, so it is tested alone.
import { orderSagaEvents } from "../../saga-rules/order-saga-events.ts";
import type { SagaEventOutline } from "./saga-dto.ts";

export type BarKind = "step" | "compensation";
/** interrupted: the saga moved on (compensation began, or it ended) without this attempt's answer. */
export type BarOutcome = "running" | "succeeded" | "failed" | "timed_out" | "interrupted";

export interface TimelineBar {
  kind: BarKind;
  step: string;
  stepIndex: number;
  service: string;
  attempt: number;
  start: Date;
  end: Date | null;
  outcome: BarOutcome;
  error: string | null;
}

/** An operator's pause, from its owner's answer to the pause until the answer to the resume. */
export interface PauseSpan {
  by: string;
  start: Date;
  /** null while the saga is still paused. */
  end: Date | null;
}

/** An operator's edit of the saga's input, from its owner's answer to a retry with it. */
export interface InputEdit {
  by: string;
  at: Date;
  input: Record<string, unknown>;
}

export interface SagaTimeline {
  start: Date | null;
  end: Date | null;
  bars: TimelineBar[];
  pauses: PauseSpan[];
  edits: InputEdit[];
}

const CONTROL_RESULT = "io.sagascope.control.result";

const PREFIX = "io.sagascope.saga.";

export function buildTimeline(events: SagaEventOutline[]): SagaTimeline {
  const bars: TimelineBar[] = [];
  const open = new Map<string, TimelineBar>();
  const pauses: PauseSpan[] = [];
  const edits: InputEdit[] = [];
  const sorted = orderSagaEvents(events);
  for (const e of sorted) {
    if (e.type === CONTROL_RESULT) {
      noteControl(pauses, edits, e);
      continue;
    }
    // A saga that ended is paused no more (its last move ended it while paused, say).
    if (e.type === `${PREFIX}completed` || e.type === `${PREFIX}aborted`) closePause(pauses, e.time);
    const kind = e.type.slice(PREFIX.length);
    const d = (e.data ?? {}) as { attempt?: number; error?: { message?: string } };
    if (e.step === null || e.stepIndex === null) continue;
    const barKind: BarKind = kind.startsWith("compensation.") ? "compensation" : "step";
    const key = `${barKind}:${e.step}:${d.attempt ?? 1}`;
    if (kind === "step.started" || kind === "compensation.started") {
      const bar: TimelineBar = {
        kind: barKind,
        step: e.step,
        stepIndex: e.stepIndex,
        service: e.service ?? "?",
        attempt: d.attempt ?? 1,
        start: e.time,
        end: null,
        outcome: "running",
        error: null,
      };
      bars.push(bar);
      open.set(key, bar);
      continue;
    }
    const bar = open.get(key);
    if (!bar) continue;
    if (kind === "timed_out") {
      bar.outcome = "timed_out";
      bar.end = e.time;
    } else if (kind.endsWith(".succeeded")) {
      bar.outcome = "succeeded";
      bar.end = e.time;
      open.delete(key);
    } else if (kind.endsWith(".failed")) {
      if (bar.outcome !== "timed_out") bar.outcome = "failed";
      bar.end ??= e.time;
      bar.error = d.error?.message ?? null;
      open.delete(key);
    }
  }
  // An attempt still open when the saga moved past it (an orchestrator crashed mid-call and the
  // saga was compensated, say) never got its answer: it is shown ending where the saga moved on.
  for (const bar of open.values()) {
    if (bar.outcome !== "running" || bar.kind !== "step") continue;
    const movedOn = sorted.find(
      (e) =>
        e.time >= bar.start &&
        (e.type === `${PREFIX}compensation.started` ||
          e.type === `${PREFIX}completed` ||
          e.type === `${PREFIX}aborted`),
    );
    if (movedOn) {
      bar.outcome = "interrupted";
      bar.end = movedOn.time;
    }
  }
  const times = sorted.map((e) => e.time.getTime());
  return times.length === 0
    ? { start: null, end: null, bars, pauses, edits }
    : { start: new Date(Math.min(...times)), end: new Date(Math.max(...times)), bars, pauses, edits };
}

/**
 * An owner's answer: a pause opens a span, a resume closes the open one, a retry that carried
 * an edited input records the edit; a refused command changes nothing.
 */
function noteControl(pauses: PauseSpan[], edits: InputEdit[], e: SagaEventOutline) {
  const d = (e.data ?? {}) as {
    action?: string;
    outcome?: string;
    requestedBy?: string;
    handledBy?: string;
    input?: Record<string, unknown> | null;
  };
  if (d.outcome !== "done") return;
  const by = d.requestedBy ?? d.handledBy ?? "an operator";
  const open = pauses.at(-1)?.end === null;
  if (d.action === "pause" && !open) pauses.push({ by, start: e.time, end: null });
  if (d.action === "resume" || d.action === "mark-resolved") closePause(pauses, e.time);
  if (d.action === "retry-step" && d.input) edits.push({ by, at: e.time, input: d.input });
}

function closePause(pauses: PauseSpan[], at: Date) {
  const open = pauses.at(-1);
  if (open && open.end === null) open.end = at;
}
