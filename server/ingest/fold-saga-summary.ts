// Folds one saga event into the saga's summary row. Pure: the ingester feeds it the
// events that were new in a batch, in the saga's own order.

import { RETRYING_FROM_ATTEMPT, type WaitingOn } from "../../browser-safe/waiting-on.ts";
import { BREAKER_OPEN_CODE } from "../breakers/rejection-policy.ts";
import type { SagaEvent, SagaMode } from "../events/index.ts";

export type SagaStatus =
  | "running"
  | "compensating"
  | "completed"
  | "compensated"
  | "failed"
  | "timed_out"
  | "resolved";
const TERMINAL: ReadonlySet<SagaStatus> = new Set(["completed", "compensated", "failed", "resolved"]);

export interface SagaSummaryState {
  sagaId: string;
  sagaType: string;
  mode: SagaMode;
  status: SagaStatus;
  traceId: string;
  businessKey: string | null;
  currentStep: string | null;
  failedStep: string | null;
  failureReason: string | null;
  startedAt: Date;
  lastProgressAt: Date;
  endedAt: Date | null;
  eventCount: number;
  /** When the next event is due at the latest; null once the saga has ended. */
  progressExpectedBy: Date | null;
  /** What that next event should be, for the stuck report. */
  progressExpectation: string | null;
  stuck: boolean;
  stuckReason: string | null;
  /** What it waits on (waiting-on.ts); null once it has ended, but for a compensation given up (operator). */
  waitingOn: WaitingOn | null;
  /** Every service that took part, sorted. */
  services: string[];
  /** Who paused the saga and when (its owner's answer to a pause command); null when not paused. */
  pausedBy: string | null;
  pausedAt: Date | null;
}

export function isTerminal(status: SagaStatus): boolean {
  return TERMINAL.has(status);
}

function initial(event: SagaEvent): SagaSummaryState {
  return {
    sagaId: event.data.sagaId,
    sagaType: event.data.sagaType,
    mode: event.data.mode,
    status: "running",
    traceId: event.trace.traceId,
    businessKey: null,
    currentStep: null,
    failedStep: null,
    failureReason: null,
    startedAt: event.time,
    lastProgressAt: event.time,
    endedAt: null,
    eventCount: 0,
    progressExpectedBy: null,
    progressExpectation: null,
    stuck: false,
    stuckReason: null,
    waitingOn: null,
    services: [],
    pausedBy: null,
    pausedAt: null,
  };
}

function waitingOnAfter(event: SagaEvent): WaitingOn {
  const d = event.data as {
    attempt?: number;
    timeoutMs?: number;
    willRetry?: boolean;
    error?: { code?: string };
  };
  const failed =
    event.type === "io.sagascope.saga.step.failed" || event.type === "io.sagascope.saga.compensation.failed";
  // A compensation that failed is retried by the runtime until saga.aborted says otherwise.
  const retried = failed && (event.type === "io.sagascope.saga.compensation.failed" || d.willRetry === true);
  if (retried && d.error?.code === BREAKER_OPEN_CODE) return "breaker";
  if (retried && (d.attempt ?? 1) >= RETRYING_FROM_ATTEMPT) return "retrying";
  if (event.type === "io.sagascope.saga.timed_out") return "participant";
  if (event.type.endsWith(".started") && d.timeoutMs !== undefined) return "participant";
  if (announcedNext(event)) return "participant";
  return "silent";
}

/** The step a choreography participant handed the saga on to, with its deadline, if it said. */
function announcedNext(event: SagaEvent): { step: string; service: string; timeoutMs: number } | undefined {
  return event.type === "io.sagascope.saga.step.succeeded"
    ? (event as SagaEvent<"io.sagascope.saga.step.succeeded">).data.next
    : undefined;
}

/** A paused saga waits on its operator: nothing is due, so it is never reported stuck. */
function holdStill(s: SagaSummaryState) {
  s.waitingOn = "paused";
  s.stuck = false;
  s.stuckReason = null;
  s.progressExpectedBy = null;
  s.progressExpectation = null;
}

export function foldSagaSummary(previous: SagaSummaryState | undefined, event: SagaEvent): SagaSummaryState {
  const s: SagaSummaryState = { ...(previous ?? initial(event)) };
  applyEvent(s, event, previous?.lastProgressAt);
  return s;
}

/**
 * A saga's events folded in order into its summary, as many calls of foldSagaSummary would,
 * copying the summary once rather than once per event (the ingester folds every event it stores).
 */
export function foldSagaEvents(
  previous: SagaSummaryState | undefined,
  events: readonly SagaEvent[],
): SagaSummaryState | undefined {
  const first = events[0];
  if (!first) return previous;
  const s: SagaSummaryState = { ...(previous ?? initial(first)) };
  let lastProgressBefore = previous?.lastProgressAt;
  for (const event of events) {
    applyEvent(s, event, lastProgressBefore);
    lastProgressBefore = s.lastProgressAt;
  }
  return s;
}

/**
 * Folds one event into `s`, in place. `lastProgressBefore` is the summary's last progress
 * before this event; undefined when the saga had no summary yet.
 */
function applyEvent(s: SagaSummaryState, event: SagaEvent, lastProgressBefore: Date | undefined): void {
  s.eventCount += 1;
  // A command or its result is part of the saga's history, not progress of the saga itself.
  if (event.type === "io.sagascope.control.command") return;
  if (event.type === "io.sagascope.control.result") {
    const d = (event as SagaEvent<"io.sagascope.control.result">).data;
    if (d.action === "mark-resolved" && d.outcome === "done" && s.status !== "completed") {
      s.status = "resolved";
      s.endedAt = event.time;
      s.currentStep = null;
      s.stuck = false;
      s.stuckReason = null;
      s.progressExpectedBy = null;
      s.progressExpectation = null;
      s.waitingOn = null;
      s.pausedBy = null;
      s.pausedAt = null;
    }
    if (d.action === "pause" && d.outcome === "done" && !isTerminal(s.status)) {
      s.pausedBy = d.requestedBy ?? d.handledBy;
      s.pausedAt = event.time;
      holdStill(s);
    }
    if (d.action === "resume" && d.outcome === "done" && s.pausedAt) {
      s.pausedBy = null;
      s.pausedAt = null;
      if (!isTerminal(s.status)) {
        // The next move starts now: it is due from the resume on, or from the latest progress
        // if that was folded first (the control topic can lag the saga's events).
        s.waitingOn = "silent";
        s.progressExpectedBy = new Date(Math.max(event.time.getTime(), s.lastProgressAt.getTime()));
        s.progressExpectation = "the next move after the resume";
      }
    }
    return;
  }
  const service = (event.data as { service?: unknown }).service;
  if (typeof service === "string" && !s.services.includes(service))
    s.services = [...s.services, service].sort();
  if (event.time < s.startedAt) s.startedAt = event.time;
  if (event.time > s.lastProgressAt) s.lastProgressAt = event.time;
  // Once a saga has ended, a late event may add to its history but not reopen it.
  const open = !isTerminal(s.status);
  const setStatus = (status: SagaStatus) => {
    if (open || isTerminal(status)) s.status = status;
  };

  const e = event as SagaEvent & { data: Record<string, unknown> };
  switch (event.type) {
    case "io.sagascope.saga.started": {
      const d = (event as SagaEvent<"io.sagascope.saga.started">).data;
      s.startedAt = event.time;
      s.businessKey = d.businessKey ?? null;
      s.traceId = event.trace.traceId;
      break;
    }
    case "io.sagascope.saga.step.started":
      // A retry after a timed-out attempt: the saga is moving again.
      if (s.status === "timed_out") s.status = "running";
      if (open) s.currentStep = String(e.data.step);
      break;
    case "io.sagascope.saga.step.succeeded":
    case "io.sagascope.saga.compensation.succeeded":
      if (open) s.currentStep = String(e.data.step);
      break;
    case "io.sagascope.saga.step.failed": {
      const d = (event as SagaEvent<"io.sagascope.saga.step.failed">).data;
      if (open) s.currentStep = d.step;
      if (!d.willRetry) {
        s.failedStep = d.step;
        s.failureReason = d.error.message;
      }
      break;
    }
    case "io.sagascope.saga.compensation.started":
      setStatus("compensating");
      if (open) s.currentStep = String(e.data.step);
      break;
    case "io.sagascope.saga.compensation.failed": {
      const d = (event as SagaEvent<"io.sagascope.saga.compensation.failed">).data;
      // Not terminal: the runtime retries compensations; saga.aborted says how it ended.
      s.failureReason = `compensation of ${d.step} failed: ${d.error.message}`;
      break;
    }
    case "io.sagascope.saga.timed_out": {
      const d = (event as SagaEvent<"io.sagascope.saga.timed_out">).data;
      setStatus("timed_out");
      s.failedStep = d.step;
      s.failureReason = `step ${d.step} timed out after ${d.timeoutMs} ms`;
      break;
    }
    case "io.sagascope.saga.completed":
      setStatus("completed");
      s.endedAt = event.time;
      s.currentStep = null;
      break;
    case "io.sagascope.saga.aborted": {
      const d = (event as SagaEvent<"io.sagascope.saga.aborted">).data;
      setStatus(d.compensated ? "compensated" : "failed");
      s.endedAt = event.time;
      s.currentStep = null;
      s.failedStep = d.failedStep ?? s.failedStep;
      s.failureReason = d.reason;
      break;
    }
  }
  // Any event is progress: the saga is not stuck (any more), and the next one is due
  // after the attempt's timeout if it announced one, or right away otherwise.
  s.stuck = false;
  s.stuckReason = null;
  if (isTerminal(s.status)) {
    s.progressExpectedBy = null;
    s.progressExpectation = null;
    s.waitingOn = s.status === "failed" ? "operator" : null;
    s.pausedBy = null;
    s.pausedAt = null;
  } else if (s.pausedAt) {
    // A move that was in flight when the saga was paused has finished; nothing else is due.
    holdStill(s);
  } else if (!lastProgressBefore || event.time >= lastProgressBefore) {
    s.waitingOn = waitingOnAfter(event);
    const d = e.data as { step?: string; service?: string; attempt?: number; timeoutMs?: number };
    const started = event.type.endsWith(".started") && d.step !== undefined;
    const next = announcedNext(event);
    const what = event.type.includes("compensation") ? "compensation of" : "step";
    const dueIn = started ? (d.timeoutMs ?? 0) : (next?.timeoutMs ?? 0);
    s.progressExpectedBy = new Date(event.time.getTime() + dueIn);
    s.progressExpectation = started
      ? `${what} ${d.step} (${d.service}, attempt ${d.attempt ?? 1}) to finish${d.timeoutMs ? ` within ${d.timeoutMs} ms` : ""}`
      : next
        ? `step ${next.step} (${next.service}) to answer within ${next.timeoutMs} ms of ${d.step}'s success`
        : `the next move after ${event.type.replace("io.sagascope.saga.", "")}${d.step ? ` of ${d.step}` : ""}`;
  }
}
