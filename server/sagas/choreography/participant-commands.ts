// An operator's commands, as a participant obeys them: every participant does its part
// (marks the saga cancelled, resolved or paused; handles its parked or held messages again)
// and the owner answers; an accepted retry-from is relayed by the owner on the saga's domain
// partition, where the participant that performed the step handles its trigger again.
import { withTransaction } from "../../db/transaction.ts";
import {
  type DomainSchemas,
  decodeSagaEvent,
  describePause,
  encodeSagaEvent,
  type SagaEvent,
} from "../../events/index.ts";
import type { Handling, ParticipantReactions } from "./participant-reactions.ts";
import type { ParticipantReports } from "./participant-reports.ts";
import { formatKept, type ParticipantStore } from "./participant-store.ts";
import type {
  OutboxMessage,
  ParticipantOptions,
  ParticipantStats,
  RawMessage,
  Reaction,
} from "./participant-types.ts";

export const CONTROL_COMMAND = "io.sagascope.control.command";
/** A relayed retry-from older than this is refused: the dashboard settled it by its silence (2 min by default). */
export const DEFAULT_RETRY_FROM_WITHIN_MS = 120_000;

/** The answer to a retry-from, from what became of the step's trigger handled again. */
function retryAnswer(handling: Handling, did: string): ["done" | "refused", string] {
  switch (handling) {
    case "handled":
    case "duplicate":
      return ["done", `${did}; the saga goes on from there`];
    case "held":
      return ["done", `${did}: the saga is paused, so it waits for the resume`];
    case "failed":
      return ["done", `${did}: the step failed for good, so the saga compensates`];
    case "parked":
      return ["refused", `${did}, but could not: the message is parked (see the dead letters)`];
    case "resolved":
      return ["refused", "the saga was marked resolved"];
    case "ignored":
      return ["refused", "the kept trigger is no message this participant reacts to"];
  }
}

export function createParticipantCommands<S extends DomainSchemas>(deps: {
  options: ParticipantOptions<S>;
  store: ParticipantStore;
  stats: ParticipantStats;
  reports: ParticipantReports;
  reactions: ParticipantReactions;
}) {
  const { options, store, stats } = deps;
  const { service, choreography, reactions, pool, topics } = options;
  const { controlResult, sagaMessages } = deps.reports;
  const { react } = deps.reactions;
  const retryFromWithinMs = options.retryFromWithinMs ?? DEFAULT_RETRY_FROM_WITHIN_MS;
  /** Whether this participant performs the step (rather than compensating it, or not at all). */
  const performs = (step: string) =>
    Object.values(reactions).some(
      (r) => (r as Reaction<S> | undefined)?.step === step && r?.kind !== "compensation",
    );

  /** An operator's command for a saga of this type: every participant does its part, the owner answers. */
  async function obey(command: SagaEvent<"io.sagascope.control.command">): Promise<void> {
    const d = command.data;
    const ref = { sagaId: d.sagaId, trace: command.trace };
    const answer: SagaEvent[] = [];
    const relay: OutboxMessage[] = [];
    let redrive: "parked" | "held" | undefined;
    const fresh = await withTransaction(pool, async (tx) => {
      if (!(await store.claimEvent(tx, `control:${d.commandId}`, d.sagaId, command.type))) return false;
      const mark = await store.mark(tx, d.sagaId);
      const ended = mark.ended
        ? `the saga has already ended (${mark.ended})`
        : mark.resolved
          ? "the saga was marked resolved"
          : undefined;
      const refuse = (message: string) => {
        if (options.owner) answer.push(controlResult(ref, d, "refused", message));
      };
      switch (d.action) {
        case "compensate":
          if (ended) refuse(ended);
          else {
            await store.setMark(tx, d.sagaId, "cancel");
            if (options.owner) await store.addPending(tx, d.commandId, d.sagaId, d.action);
            redrive = "parked";
          }
          break;
        case "mark-resolved":
          if (mark.ended === "completed" || mark.ended === "compensated" || mark.resolved)
            refuse(ended ?? "");
          else {
            await store.setMark(tx, d.sagaId, "resolve");
            if (options.owner)
              answer.push(controlResult(ref, d, "done", `marked resolved: ${d.reason ?? ""}`));
          }
          break;
        case "retry-step":
          if (d.input)
            refuse(
              "a choreographed saga's input travels in its messages: edit its parked message on the dead-letters page and replay it",
            );
          else if (ended) refuse(`nothing to retry: ${ended}`);
          else if (mark.paused) refuse(`${describePause(mark.paused)}: resume it first`);
          else redrive = "parked";
          break;
        case "pause":
          if (ended) refuse(`nothing to pause: ${ended}`);
          else if (mark.paused) refuse(`${describePause(mark.paused)} already`);
          else {
            await store.setPaused(tx, d.sagaId, d.requestedBy ?? "an operator");
            if (options.owner)
              answer.push(
                controlResult(
                  ref,
                  d,
                  "done",
                  `paused${d.requestedBy ? ` by ${d.requestedBy}` : ""}; each participant holds the saga's next messages until it is resumed`,
                ),
              );
          }
          break;
        case "resume":
          if (!mark.paused) refuse("the saga is not paused");
          else {
            await store.setPaused(tx, d.sagaId, null);
            redrive = "held";
            if (options.owner)
              answer.push(
                controlResult(
                  ref,
                  d,
                  "done",
                  `resumed${d.requestedBy ? ` by ${d.requestedBy}` : ""}; each participant handles the messages it held now`,
                ),
              );
          }
          break;
        case "retry-from": {
          const from = d.fromStep ?? -1;
          const step = choreography.steps[from];
          if (ended) refuse(`retry-from applies to a saga still moving forward: ${ended}`);
          else if (mark.paused) refuse(`${describePause(mark.paused)}: resume it first`);
          else if (mark.cancelRequested)
            refuse("retry-from applies to a saga still moving forward: it is being compensated");
          else if (!step)
            refuse(`step ${from} does not exist (the saga has ${choreography.steps.length} steps)`);
          else if (from === 0)
            refuse(
              `step 0 (${step.name}) is started by the application, not by a message: there is no trigger to handle again`,
            );
          // The participant that performs the step handles its trigger again and answers.
          else if (options.owner) relay.push({ topic: topics.domain, message: encodeSagaEvent(command) });
          break;
        }
      }
      await store.outbox.insert(tx, [...sagaMessages(answer), ...relay]);
      return true;
    });
    if (!fresh || !redrive) return;
    // Parked messages of the saga are handled again: after a cancel they fail their step (so
    // the compensations run); after retry-step they get a fresh set of tries. After a resume,
    // the messages held while paused are handled as if they had just arrived.
    const parked = await redriveParked(d.sagaId, { held: redrive === "held" });
    if (d.action === "retry-step" && parked.length > 0) {
      await withTransaction(pool, (tx) =>
        store.outbox.insert(
          tx,
          sagaMessages([
            controlResult(ref, d, "done", `${service} handled ${parked.length} parked message(s) again`),
          ]),
        ),
      );
    }
  }

  /**
   * A retry-from the owner accepted, read from the saga's partition: the participant that
   * performs the step handles the message that triggered it again (every later step follows
   * from what it publishes), and answers with what became of it. At least once: a crash before
   * the answer handles the trigger again, so a reaction must be idempotent per saga. A relay
   * older than `retryFromWithinMs` (a participant that was down) is refused, not acted on late.
   */
  async function retryFromHere(raw: RawMessage): Promise<void> {
    const decoded = decodeSagaEvent(raw);
    if (!decoded.ok || decoded.event.type !== CONTROL_COMMAND) return;
    const command = decoded.event as SagaEvent<"io.sagascope.control.command">;
    const d = command.data;
    const from = d.fromStep ?? -1;
    const step = choreography.steps[from];
    if (d.action !== "retry-from" || d.sagaType !== choreography.type || !step || !performs(step.name))
      return;
    const answerId = `retry-from:${d.commandId}`;
    if (await store.processed(answerId)) return;
    const mark = await store.mark(pool, d.sagaId);
    const named = `step ${from} (${step.name})`;
    const age = Date.now() - command.time.getTime();
    let outcome: "done" | "refused" = "refused";
    let message: string;
    if (age > retryFromWithinMs)
      message = `the command reached ${service} ${Math.round(age / 1000)} s after it was sent, past its ${Math.round(retryFromWithinMs / 1000)} s: not acted on late`;
    else if (mark.resolved) message = "the saga was marked resolved";
    else if (mark.cancelRequested || mark.failed)
      message = `retry-from applies to a saga still moving forward: it is being compensated`;
    else {
      const trigger = await store.trigger(d.sagaId, step.name);
      if (!trigger) {
        const parked = (await store.listParked(d.sagaId)).length > 0;
        message = `${service} has not performed ${named} of this saga: it was not reached${parked ? " (a message of the saga is parked here: retry the step instead)" : `, or its trigger was pruned (kept ${formatKept(store.keepTriggersMs)})`}`;
      } else {
        const eventId = trigger.headers.ce_id;
        if (eventId) await withTransaction(pool, (tx) => store.forgetEvent(tx, eventId));
        const handling = await react(trigger);
        stats.redriven += 1;
        [outcome, message] = retryAnswer(handling, `${service} handled the trigger of ${named} again`);
      }
    }
    await withTransaction(pool, async (tx) => {
      if (!(await store.claimEvent(tx, answerId, d.sagaId, command.type))) return;
      await store.outbox.insert(
        tx,
        sagaMessages([controlResult({ sagaId: d.sagaId, trace: command.trace }, d, outcome, message)]),
      );
    });
  }

  /** Handles a saga's parked (or held) messages again, oldest first; returns them. */
  async function redriveParked(sagaId: string, which: { held: boolean }) {
    const parked = await store.listParked(sagaId, which);
    for (const message of parked) {
      const eventId = message.headers.ce_id;
      if (eventId) await withTransaction(pool, (tx) => store.forgetEvent(tx, eventId));
      await react(message);
      await store.markRedriven(message.id);
      stats.redriven += 1;
    }
    return parked;
  }

  return { obey, retryFromHere, redriveParked };
}
