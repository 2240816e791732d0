// The public face of a choreography participant: what a reaction is given and does, the
// options a participant is made with, and what it offers once made.
import type { Kafka, Message, Producer } from "kafkajs";
import type { z } from "zod";
import type { Pool, PoolClient } from "../../db/pool.ts";
import type { DomainEvent, DomainSchemas, Failure, TraceContext } from "../../events/index.ts";
import type { Logger } from "../../log.ts";
import type { Choreography } from "./choreography.ts";
import type { ParticipantStore, StoredMessage } from "./participant-store.ts";
import type { SagaRecorder } from "./saga-recorder.ts";

/** A message for another topic, written to the outbox and sent once the transaction commits. */
export interface OutboxMessage {
  topic: string;
  message: Message;
}

/** A message as the participant read it (headers as text). */
export type RawMessage = StoredMessage;

export interface ReactionContext<S extends DomainSchemas, T extends keyof S & string = keyof S & string> {
  event: DomainEvent<S, T>;
  sagaId: string;
  /** The participant's transaction: its business writes go here, with the dedupe and the outbox. */
  tx: PoolClient;
  attempt: number;
  saga: SagaRecorder;
  /** Publishes a domain event for the next participant (keyed by the saga id) once the transaction commits. */
  publish<T extends keyof S & string>(type: T, data: z.input<S[T]>): void;
  /** Publishes any other message (e.g. a change of the service's own data) once the transaction commits. */
  emit(topic: string, message: Message): void;
}

export interface Reaction<S extends DomainSchemas, T extends keyof S & string = keyof S & string> {
  /** The step this reaction performs or compensates; its contract events are recorded for it. */
  step?: string;
  kind?: "action" | "compensation";
  handle(ctx: ReactionContext<S, T>): Promise<void>;
  /** The step failed for good (a business refusal, retries spent, or cancelled): publish the failure event. */
  onFailure?(ctx: ReactionContext<S, T>, failure: Failure): Promise<void>;
}

export interface ParticipantOptions<S extends DomainSchemas> {
  service: string;
  /** CloudEvents source of what it publishes. */
  source: string;
  choreography: Choreography;
  schemas: S;
  reactions: { [T in keyof S & string]?: Reaction<S, T> };
  pool: Pool;
  databaseUrl: string;
  /** The participant's own schema for its bookkeeping and outbox. */
  schema: string;
  kafka: Kafka;
  producer: Producer;
  groupId: string;
  topics: { domain: string; sagaEvents: string; control: string; deadLetters: string };
  /** The saga's owner of record: it starts and ends the saga and answers operators' commands for it. */
  owner?: boolean;
  /** Tries of a step that fails transiently, with the pause after the first (doubling). */
  retry?: { attempts: number; backoffMs: number };
  /** Tries of everything that must eventually succeed (compensations, bookkeeping) before it is parked. */
  compensationRetry?: { attempts: number; backoffMs: number };
  /** How many partitions are handled at once (default 6, the partitions of a topic made with the default count). */
  partitionsConcurrently?: number;
  /**
   * How many message keys of one partition are handled at once, each key's messages in their
   * order (default 8). A saga's messages share its key, so its steps stay in order.
   */
  keysConcurrently?: number;
  /** How long the group waits for a silent member before its partitions are handed on. */
  sessionTimeoutMs?: number;
  /** A relayed retry-from older than this is refused rather than acted on late (default 2 min). */
  retryFromWithinMs?: number;
  /**
   * How long a step's trigger is kept for a retry-from when this participant does not see its
   * saga end (default 7 days); older ones are pruned every so often.
   */
  keepTriggersMs?: number;
  /** Tries of a message whose handling throws something unexpected, before it is parked. */
  poisonAttempts?: number;
  log: Logger;
}

export interface ParticipantStats {
  handled: number;
  duplicates: number;
  retried: number;
  failed: number;
  parked: number;
  redriven: number;
}

export interface Participant<S extends DomainSchemas> {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The owner starts a saga: `work` does the first step in the participant's transaction. */
  begin(
    run: {
      sagaId: string;
      step: string;
      businessKey?: string;
      input?: Record<string, unknown>;
      trace?: TraceContext;
    },
    work: (ctx: Omit<ReactionContext<S>, "event">) => Promise<void>,
  ): Promise<void>;
  stats(): ParticipantStats;
  store: ParticipantStore;
}
