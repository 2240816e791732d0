// What a participant says about a saga in the contract's terms: a saga recorder for the
// event in hand, a reaction's start and failure, an answer to an operator's command, and the
// outbox messages that carry them to their topics.
import {
  type DomainSchemas,
  encodeSagaEvent,
  type Failure,
  type SagaEvent,
  sagaEvent,
  type TraceContext,
  topicOfSagaEvent,
} from "../../events/index.ts";
import type { ParticipantOptions, Reaction } from "./participant-types.ts";
import { createSagaRecorder, type SagaRecorder } from "./saga-recorder.ts";

type Reported = Pick<Reaction<DomainSchemas>, "step" | "kind">;

export function createParticipantReports<S extends DomainSchemas>(
  options: Pick<ParticipantOptions<S>, "service" | "source" | "choreography" | "topics">,
) {
  const { service, choreography, topics } = options;

  const recorderFor = (event: { key: string; trace: TraceContext }) =>
    createSagaRecorder(choreography, { sagaId: event.key, trace: event.trace, source: options.source });

  const controlResult = (
    ref: { sagaId: string; trace: TraceContext },
    command: {
      commandId: string;
      action: SagaEvent<"io.sagascope.control.result">["data"]["action"];
      requestedBy?: string | undefined;
    },
    outcome: "done" | "refused",
    message: string,
  ) =>
    sagaEvent(
      "io.sagascope.control.result",
      {
        sagaId: ref.sagaId,
        sagaType: choreography.type,
        mode: "choreographed",
        commandId: command.commandId,
        action: command.action,
        outcome,
        message,
        handledBy: service,
        ...(command.requestedBy ? { requestedBy: command.requestedBy } : {}),
      },
      { source: options.source, trace: ref.trace },
    ) as SagaEvent;

  const sagaMessages = (events: SagaEvent[]) =>
    events.map((e) => ({
      topic: topicOfSagaEvent(e.type, topics),
      message: encodeSagaEvent(e),
    }));

  function recordStart(saga: SagaRecorder, reaction: Reported, attempt: number) {
    if (!reaction.step) return;
    if (reaction.kind === "compensation") saga.compensationStarted(reaction.step, attempt);
    else saga.stepStarted(reaction.step, attempt);
  }

  function recordFailure(
    saga: SagaRecorder,
    reaction: Reported,
    attempt: number,
    began: number,
    failure: Failure,
    willRetry: boolean,
  ) {
    if (!reaction.step) return;
    recordStart(saga, reaction, attempt);
    const took = Date.now() - began;
    if (reaction.kind === "compensation") saga.compensationFailed(reaction.step, attempt, took, failure);
    else saga.stepFailed(reaction.step, attempt, took, failure, willRetry);
  }

  return { recorderFor, controlResult, sagaMessages, recordStart, recordFailure };
}

export type ParticipantReports = ReturnType<typeof createParticipantReports>;
