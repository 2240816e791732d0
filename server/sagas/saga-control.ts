// What an operator's control command does to an orchestrated saga, as a pure function of
// its state: the new state and its events, or a refusal that says why. The caller makes
// sure no move is in flight (its outcome would overwrite the command's effect), but for a
// pause or resume, which only decide whether the next move starts.
import { type ControlAction, describePause, type SagaEvent } from "../events/index.ts";
import type { SagaDefinition } from "./definition.ts";
import { emitter, type MachineContext, type SagaState } from "./saga-machine.ts";

export interface ControlRequest {
  commandId: string;
  action: ControlAction;
  fromStep?: number;
  reason?: string;
  requestedBy?: string;
  /** retry-step only: the saga's input from now on (an operator's edit). */
  input?: Record<string, unknown>;
}

export type ControlDecision =
  | { outcome: "done"; state: SagaState; events: SagaEvent[]; message: string }
  | { outcome: "refused"; message: string };

const refuse = (message: string): ControlDecision => ({ outcome: "refused", message });

export function applyControl<Input>(
  definition: SagaDefinition<Input>,
  current: SagaState,
  request: ControlRequest,
  ctx: MachineContext,
  opts: { moveInFlight?: boolean } = {},
): ControlDecision {
  // A move still recorded as begun was interrupted by a crash (or, for a pause, is in
  // flight): its attempt may have landed.
  const { move: interrupted, ...rest } = current;
  const state: SagaState = interrupted ? { ...rest, mayHaveLanded: true } : rest;
  const stepName = (i: number) => definition.steps[i]?.name ?? `#${i}`;
  const by = request.requestedBy ? ` by ${request.requestedBy}` : "";
  const why = request.reason ? `: ${request.reason}` : "";
  const ended = `the saga has already ended (${state.phase})`;
  const moving = state.phase === "forward" || state.phase === "compensating";
  const pausedSince = state.paused
    ? describePause({ by: state.paused.by, since: new Date(state.paused.since) })
    : "";
  // A paused saga starts nothing until resumed: commands that would start a move now wait for that.
  if (state.paused && (request.action === "retry-step" || request.action === "retry-from"))
    return refuse(`${pausedSince}: resume it first`);

  switch (request.action) {
    case "pause": {
      if (state.paused) return refuse(`${pausedSince} already`);
      if (!moving) return refuse(`nothing to pause: ${ended}`);
      const what = nextMoveName(definition, state);
      return {
        outcome: "done",
        state: { ...state, paused: { by: request.requestedBy ?? "an operator", since: ctx.now } },
        events: [],
        message: opts.moveInFlight
          ? `paused${by}${why}; ${what}, under way, finishes, and nothing after it starts until resumed`
          : `paused${by}${why}; ${what} will not start until resumed`,
      };
    }

    case "resume": {
      if (!state.paused) return refuse("the saga is not paused");
      const { paused: _lifted, ...going } = state;
      return {
        outcome: "done",
        state: going,
        events: [],
        // A paused saga is always unfinished: every way it ends also ends its pause.
        message: opts.moveInFlight
          ? `resumed${by}; ${nextMoveName(definition, going)}, under way, goes on as if never paused`
          : `resumed${by}; ${nextMoveName(definition, going)} starts now`,
      };
    }

    case "compensate": {
      if (state.phase === "compensating") return refuse("the saga is already compensating");
      if (state.phase === "completed")
        return refuse("the saga completed; a completed saga is not compensated");
      if (state.phase === "failed")
        return refuse("the saga ended with a failed compensation: retry it (retry-step) or mark it resolved");
      if (state.phase !== "forward") return refuse(ended);
      const current = state.cursor;
      const touched = state.mayHaveLanded || state.attempt > 1 ? [current] : [];
      const earlier = Array.from({ length: current }, (_, i) => current - 1 - i);
      const toCompensate = [...touched, ...earlier].filter((i) => definition.steps[i]?.compensate);
      const reason = `compensation requested${by}${why}`;
      const next: SagaState = {
        ...state,
        phase: "compensating",
        cursor: 0,
        attempt: 1,
        toCompensate,
        reason,
      };
      if (toCompensate.length > 0) {
        const held = state.paused ? `; ${pausedSince}: the compensation starts when it is resumed` : "";
        return {
          outcome: "done",
          state: next,
          events: [],
          message: `compensating ${toCompensate.map(stepName).join(", ")} (in that order)${held}`,
        };
      }
      const { paused: _none, ...unpaused } = next;
      const settled: SagaState = { ...unpaused, phase: "compensated" };
      return {
        outcome: "done",
        state: settled,
        events: [
          emitter(settled, ctx)("io.sagascope.saga.aborted", {
            durationMs: ctx.now - state.startedAt,
            reason,
            compensated: true,
          }),
        ],
        message: "no step had landed; the saga is aborted with nothing to revert",
      };
    }

    case "retry-step": {
      const edit = request.input ? editedInput(definition, state, request.input) : undefined;
      if (edit && "refusal" in edit) return refuse(edit.refusal);
      const withEdit = (next: SagaState): SagaState => (edit ? { ...next, input: edit.input } : next);
      const editNote = edit ? " with the edited input" : "";
      if (state.phase === "forward" || state.phase === "compensating") {
        const what =
          state.phase === "forward"
            ? `step ${stepName(state.cursor)}`
            : `compensation of ${stepName(state.toCompensate[state.cursor] ?? -1)}`;
        return {
          outcome: "done",
          state: withEdit({ ...state, attempt: 1 }),
          events: [],
          message: `retrying ${what} now${editNote}, with a fresh retry budget`,
        };
      }
      if (state.phase === "failed" && (state.failedCompensations?.length ?? 0) > 0) {
        const again = state.failedCompensations ?? [];
        return {
          outcome: "done",
          state: withEdit({
            ...state,
            phase: "compensating",
            cursor: 0,
            attempt: 1,
            toCompensate: again,
            failedCompensations: [],
            compensationFailed: false,
          }),
          events: [],
          message: `retrying the failed compensation of ${again.map(stepName).join(", ")}${editNote}`,
        };
      }
      return refuse(`nothing to retry: ${ended}`);
    }

    case "retry-from": {
      const from = request.fromStep ?? -1;
      if (state.phase !== "forward")
        return refuse(
          `retry-from applies to a saga still moving forward; ${ended.replace("the saga has already ended", "it is")}`,
        );
      if (from < 0 || from >= definition.steps.length)
        return refuse(`step ${from} does not exist (the saga has ${definition.steps.length} steps)`);
      if (from > state.cursor)
        return refuse(
          `step ${from} (${stepName(from)}) has not been reached; the saga is at step ${state.cursor}`,
        );
      return {
        outcome: "done",
        state: { ...state, cursor: from, attempt: 1 },
        events: [],
        message: `re-running from step ${from} (${stepName(from)}); steps are idempotent, so a landed one is not repeated at its service`,
      };
    }

    case "mark-resolved": {
      if (!request.reason?.trim()) return refuse("mark-resolved needs a reason");
      if (state.phase === "completed" || state.phase === "compensated" || state.phase === "resolved")
        return refuse(ended);
      const { paused: _ended, ...unpaused } = state;
      return {
        outcome: "done",
        state: { ...unpaused, phase: "resolved", reason: `marked resolved${by}: ${request.reason}` },
        events: [],
        message: `marked resolved; the runtime no longer drives it (was ${state.phase})`,
      };
    }
  }
}

/**
 * An operator's edited input: once a step has landed (or may have), only the fields the
 * definition names as editable may change; and the input must fit the saga's schema, if known.
 */
function editedInput<Input>(
  definition: SagaDefinition<Input>,
  state: SagaState,
  input: Record<string, unknown>,
): { input: Record<string, unknown> } | { refusal: string } {
  const landed =
    state.phase !== "forward" || state.cursor > 0 || state.attempt > 1 || Boolean(state.mayHaveLanded);
  if (landed) {
    const editable = new Set<string>(definition.editableOnceLanded ?? []);
    const keys = new Set([...Object.keys(state.input), ...Object.keys(input)]);
    const changed = [...keys].filter((k) => JSON.stringify(state.input[k]) !== JSON.stringify(input[k]));
    const fixed = changed.filter((k) => !editable.has(k));
    if (fixed.length > 0)
      return {
        refusal: `steps have already run with the input, so ${fixed.join(", ")} may not change now${
          editable.size > 0 ? ` (only ${[...editable].join(", ")} may)` : ""
        }`,
      };
  }
  if (!definition.input) return { input };
  const checked = definition.input.safeParse(input);
  if (checked.success) return { input: checked.data as Record<string, unknown> };
  const problems = checked.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join(".") || "input"}: ${i.message}`)
    .join("; ");
  return { refusal: `the edited input does not fit ${state.sagaType}'s input schema: ${problems}` };
}

/** What the saga would do next, in words: "step charge" or "the compensation of reserve". */
function nextMoveName<Input>(definition: SagaDefinition<Input>, state: SagaState): string {
  const name = (i: number | undefined) => (i === undefined ? "?" : (definition.steps[i]?.name ?? `#${i}`));
  return state.phase === "compensating"
    ? `the compensation of ${name(state.toCompensate[state.cursor])}`
    : `step ${name(state.cursor)}`;
}

/** The result event of a command, for the saga's history and the operator who sent it. */
export function controlResultEvent(
  state: Pick<SagaState, "sagaId" | "sagaType" | "trace">,
  request: ControlRequest,
  decision: Pick<ControlDecision, "outcome" | "message"> & { state?: SagaState },
  ctx: MachineContext & { handledBy: string },
): SagaEvent {
  return emitter(state as SagaState, ctx)("io.sagascope.control.result", {
    commandId: request.commandId,
    action: request.action,
    outcome: decision.outcome,
    message: decision.message,
    handledBy: ctx.handledBy,
    ...(request.requestedBy ? { requestedBy: request.requestedBy } : {}),
    ...(decision.outcome === "done" && request.input && decision.state
      ? { input: decision.state.input }
      : {}),
  });
}
