// What a saga type is: ordered steps, each owned by a service, each with an action, a
// compensation, a timeout and a retry policy; and the schema of its input, when known.
import type { z } from "zod";
export interface StepContext<Input> {
  sagaId: string;
  input: Input;
  /** 1 for the first try; actions use sagaId + step (not attempt) as their idempotency key. */
  attempt: number;
  /** W3C traceparent of this step's span, for the call to the participant. */
  traceparent: string;
}

export interface RetryPolicy {
  /** Total tries, including the first. */
  attempts: number;
  backoffMs: number;
  /** Multiplier applied to the backoff after every retry. */
  backoffFactor?: number;
  /** The longest pause between two tries. */
  maxBackoffMs?: number;
}

export interface StepDefinition<Input> {
  name: string;
  service: string;
  timeoutMs: number;
  retry: RetryPolicy;
  action(context: StepContext<Input>): Promise<Record<string, unknown> | undefined>;
  /** Reverts the action; must be idempotent and safe to run even if the action never landed. */
  compensate?(context: StepContext<Input>): Promise<void>;
}

export interface SagaDefinition<Input> {
  type: string;
  steps: StepDefinition<Input>[];
  /** The input's schema, when known: an operator's edited input is checked against it. */
  input?: z.ZodType<Input>;
  /**
   * Input fields an operator may still change once a step has landed (or may have): the steps
   * that ran used the input, so changing what they used would leave the saga inconsistent
   * (a transfer debited 100 and credited 50). None unless named.
   */
  editableOnceLanded?: (keyof Input & string)[];
  /** Retry policy of compensations, which must eventually succeed. */
  compensationRetry: RetryPolicy;
}

import { AppError } from "../errors.ts";

export function defineSaga<Input>(definition: SagaDefinition<Input>): SagaDefinition<Input> {
  const names = new Set(definition.steps.map((s) => s.name));
  if (definition.steps.length === 0 || names.size !== definition.steps.length) {
    throw new AppError("BAD_REQUEST", `saga ${definition.type}: steps must be non-empty with unique names`);
  }
  return definition;
}
