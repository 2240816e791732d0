// The life stories a large seed is made of: inter-bank transfers played by the real saga
// machine and marketplace checkouts recorded by the real choreography recorder, on a
// simulated clock, each with the summary the ingester's own fold makes of its events.
// The loader (seed-sagas.ts) stamps every saga with its own ids, trace and start time.
import type { SagaEvent } from "../../server/events/index.ts";
import {
  CHECKOUT_SERVICES,
  checkoutSaga,
  randomOrder,
  WORLD,
} from "../../server/fleet/checkout/checkout-saga.ts";
import { transferSaga } from "../../server/fleet/transfer/transfer-saga.ts";
import { ACCOUNTS_PER_BANK, CLOSED_ACCOUNT } from "../../server/fleet/transfer/transfer-world.ts";
import { foldSagaEvents, type SagaStatus } from "../../server/ingest/fold-saga-summary.ts";
import { PARKED_CODE } from "../../server/sagas/choreography/participant.ts";
import { createSagaRecorder } from "../../server/sagas/choreography/saga-recorder.ts";
import {
  beginMove,
  completeMove,
  type MoveOutcome,
  nextMove,
  startSaga,
} from "../../server/sagas/saga-machine.ts";

/** How a saga ends up: the mix of a month of a busy fleet. */
export type SagaKind =
  | "completed"
  | "compensated"
  | "failed"
  | "timed-out"
  | "stuck-running"
  | "stuck-compensating"
  | "in-flight";

/** Shares of sagas started more than a few seconds ago, per type and kind (sums to 1). */
export const SETTLED_MIX: ReadonlyArray<{ type: "transfer" | "checkout"; kind: SagaKind; share: number }> = [
  { type: "transfer", kind: "completed", share: 0.425 },
  { type: "checkout", kind: "completed", share: 0.425 },
  { type: "transfer", kind: "compensated", share: 0.05 },
  { type: "checkout", kind: "compensated", share: 0.05 },
  // Only the orchestrator gives a compensation up (the checkout parks it and waits for an operator).
  { type: "transfer", kind: "failed", share: 0.01 },
  // Only the orchestrator reports timeouts; an orchestrator that died right after one leaves the saga timed_out.
  { type: "transfer", kind: "timed-out", share: 0.01 },
  { type: "transfer", kind: "stuck-running", share: 0.01 },
  { type: "checkout", kind: "stuck-running", share: 0.01 },
  { type: "transfer", kind: "stuck-compensating", share: 0.005 },
  { type: "checkout", kind: "stuck-compensating", share: 0.005 },
];

export interface TemplateEvent {
  type: string;
  source: string;
  step: string | null;
  stepIndex: number | null;
  service: string | null;
  /** Events of one move share a span; 0 is the first span of the saga. */
  span: number;
  /** Milliseconds after the saga started. */
  atMs: number;
  /** The event's data without `sagaId` and `businessKey`, which every saga gets of its own. */
  data: Record<string, unknown>;
}

export interface TemplateSummary {
  status: SagaStatus;
  currentStep: string | null;
  failedStep: string | null;
  failureReason: string | null;
  lastProgressMs: number;
  endedMs: number | null;
  eventCount: number;
  expectedMs: number | null;
  progressExpectation: string | null;
  services: string[];
}

export interface SagaTemplate {
  /** settled: started long enough ago to have ended or to be reported stuck; in-flight: just started. */
  pool: "settled" | "in-flight";
  kind: SagaKind;
  sagaType: string;
  mode: "orchestrated" | "choreographed";
  /** Saga ids are this prefix and a UUID, as the fleet makes them. */
  idPrefix: "transfer-" | "order-";
  events: TemplateEvent[];
  summary: TemplateSummary;
}

type Random = () => number;

/** A small seeded generator (mulberry32): the same seed gives the same templates. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A latency around `medianMs`, skewed to the right as real call latencies are. */
function latency(random: Random, medianMs: number): number {
  const u = Math.max(random(), 1e-9);
  const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  return Math.max(1, Math.round(medianMs * Math.exp(0.6 * normal)));
}

const pick = <T>(random: Random, list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
const TEMPLATE_ID = "template";
/** A participant parks a message it cannot handle after this many attempts (its default). */
const PARKED_AFTER_ATTEMPTS = 3;
const TRACE = { traceId: "0".repeat(31).concat("1"), spanId: "0".repeat(15).concat("1"), sampled: true };

/** Retries before success, per step: each adds a failed attempt and a new start (2 events). */
type Retries = number[];

interface Plan {
  kind: SagaKind;
  /** The step that fails for good in compensated, failed and compensating stories. */
  failAt: number;
  retries: Retries;
  /** Where an in-flight or stuck story stops, as a share of its full length. */
  cut: number;
  seed: number;
}

// ---------------------------------------------------------------------------------------
// Inter-bank transfers: the orchestrator's real machine, with planned outcomes.

// The fleet's own definition (steps, timeouts, retry policies); the machine is driven with
// planned outcomes below, so the banks are never called.
const noBank = {
  debit: () => Promise.reject(new Error("not called")),
  credit: () => Promise.reject(new Error("not called")),
  reverse: () => Promise.reject(new Error("not called")),
};
const TRANSFER = transferSaga(noBank, noBank);
const TRANSFER_SOURCE = "/fleet/transfer-orchestrator";

function transferEvents(plan: Plan): SagaEvent[] {
  const random = seededRandom(plan.seed);
  const account = (bank: "A" | "B", n: number) =>
    `${bank}-${String(1 + Math.floor(random() * n)).padStart(3, "0")}`;
  const closed = plan.kind === "compensated" || plan.kind === "failed" || plan.kind === "stuck-compensating";
  // A compensated transfer either went to the closed account, or bank B never answered in time.
  const timeouts = plan.kind === "timed-out" || (plan.kind === "compensated" && random() < 0.2);
  const input = {
    from: account("A", ACCOUNTS_PER_BANK),
    to: closed && !timeouts ? CLOSED_ACCOUNT : account("B", ACCOUNTS_PER_BANK - 1),
    amount: 1 + Math.floor(random() * 200),
  };
  let now = 0;
  const events: SagaEvent[] = [];
  const ctx = () => ({ source: TRANSFER_SOURCE, now });
  let { state, events: first } = startSaga(
    TRANSFER,
    { sagaId: TEMPLATE_ID, input, businessKey: TEMPLATE_ID, trace: TRACE },
    ctx(),
  );
  events.push(...first);
  for (let move = nextMove(state); move; move = nextMove(state)) {
    const begun = beginMove(TRANSFER, state, move, ctx());
    events.push(...begun.events);
    const step = TRANSFER.steps[move.stepIndex];
    const service = step?.service ?? "?";
    let outcome: MoveOutcome;
    if (move.kind === "compensation") {
      now += latency(random, 8);
      outcome =
        plan.kind === "failed"
          ? {
              ok: false,
              failure: { category: "transient", message: `${service} is unavailable`, code: "UNAVAILABLE" },
            }
          : { ok: true };
    } else if (timeouts && move.stepIndex === 1) {
      now += step?.timeoutMs ?? 2000;
      outcome = {
        ok: false,
        failure: { category: "timeout", message: `${step?.name} took longer than ${step?.timeoutMs} ms` },
      };
    } else if (move.attempt <= (plan.retries[move.stepIndex] ?? 0)) {
      now += latency(random, 15);
      outcome = {
        ok: false,
        failure: {
          category: "transient",
          message: `${service} is unavailable (injected fault)`,
          code: "UNAVAILABLE",
        },
      };
    } else if (closed && move.stepIndex === 1) {
      now += latency(random, 6);
      outcome = {
        ok: false,
        failure: {
          category: "business",
          message: `account ${CLOSED_ACCOUNT} is closed`,
          code: "ACCOUNT_CLOSED",
        },
      };
    } else {
      now += latency(random, move.stepIndex === 0 ? 6 : 9);
      // The bank answers with the account's new balance.
      outcome = { ok: true, output: { balance: 5_000 + Math.floor(random() * 10_000) } };
    }
    const done = completeMove(TRANSFER, begun.state, move, outcome, ctx());
    events.push(...done.events);
    state = done.state;
    now += done.delayMs;
  }
  return cutStory(events, plan);
}

// ---------------------------------------------------------------------------------------
// Marketplace checkouts: each participant's recorder, in the order the choreography runs.

function checkoutEvents(plan: Plan): SagaEvent[] {
  const random = seededRandom(plan.seed);
  const steps = checkoutSaga.steps;
  const failAt = ["compensated", "stuck-compensating"].includes(plan.kind) ? plan.failAt : -1;
  const order = randomOrder(0, random);
  if (failAt === 1) order.customerId = WORLD.brokeCustomer;
  if (failAt === 2) order.sku = WORLD.soldOutSku;
  if (failAt === 3) order.customerId = WORLD.remoteCustomer;
  const events: SagaEvent[] = [];
  let now = 0;
  const recorder = (service: string) => {
    const rec = createSagaRecorder(checkoutSaga, {
      sagaId: TEMPLATE_ID,
      trace: TRACE,
      source: `/fleet/checkout/${service}`,
    });
    // The recorder stamps events with the wall clock; the story runs on its own clock.
    let stamped = 0;
    const stamp = () => {
      for (const e of rec.events.slice(stamped)) e.time = new Date(now);
      stamped = rec.events.length;
    };
    return { rec, stamp, flush: () => events.push(...rec.events) };
  };
  const hop = () => {
    now += latency(random, 12);
  };

  // The order service places the order: the saga starts with its first step done.
  const placed = recorder("order");
  placed.rec.started({ businessKey: TEMPLATE_ID, input: { ...order } });
  placed.rec.stepStarted(steps[0]?.name ?? "?", 1);
  placed.stamp();
  now += latency(random, 4);
  placed.rec.stepSucceeded(steps[0]?.name ?? "?", 1, now);
  placed.stamp();
  placed.flush();

  let failed = -1;
  for (let i = 1; i < steps.length && failed < 0; i++) {
    const step = steps[i];
    if (!step) break;
    hop();
    for (let attempt = 1; ; attempt++) {
      const part = recorder(step.service);
      const began = now;
      if (attempt <= (plan.retries[i] ?? 0)) {
        now += latency(random, 7);
        // A failed attempt is recorded after the fact, in a transaction of its own.
        part.rec.stepStarted(step.name, attempt);
        part.rec.stepFailed(step.name, attempt, now - began, transient(step.service), true);
        part.stamp();
        part.flush();
        now += 100 * 2 ** (attempt - 1);
        continue;
      }
      if (i === failAt) {
        now += latency(random, 7);
        part.rec.stepStarted(step.name, attempt);
        part.rec.stepFailed(step.name, attempt, now - began, refusal(i, order), false);
        part.stamp();
        part.flush();
        failed = i;
        break;
      }
      // A step that goes through records its start and its success in one transaction.
      part.rec.stepStarted(step.name, attempt);
      part.stamp();
      now += latency(random, 9);
      part.rec.stepSucceeded(step.name, attempt, now - began);
      part.stamp();
      part.flush();
      break;
    }
  }
  if (failed < 0) {
    hop();
    const done = recorder("order");
    done.rec.completed(now);
    done.stamp();
    done.flush();
    return cutStory(events, plan);
  }
  // The failure travels back: every earlier participant undoes its part; the order service ends the saga.
  for (let i = failed - 1; i >= 0; i--) {
    const step = steps[i];
    if (!step) break;
    hop();
    const part = recorder(step.service);
    const began = now;
    if (plan.kind === "stuck-compensating" && i === failed - 1) {
      // The compensation is refused: the participant parks its message for an operator (and
      // records it as its last attempt), and the saga waits.
      now += latency(random, 6);
      part.rec.compensationStarted(step.name, PARKED_AFTER_ATTEMPTS);
      part.rec.compensationFailed(step.name, PARKED_AFTER_ATTEMPTS, now - began, {
        category: "transient",
        message: `message parked: compensation ${step.name} failed: ${step.service} refused it`,
        code: PARKED_CODE,
      });
      part.stamp();
      part.flush();
      return events;
    }
    part.rec.compensationStarted(step.name, 1);
    part.stamp();
    now += latency(random, 6);
    if (i === 0) {
      part.rec.aborted({
        durationMs: now,
        reason: `${steps[failed]?.name} failed: ${refusal(failed, order).message}`,
        failedStep: steps[failed]?.name ?? "?",
        compensated: true,
      });
      part.stamp();
    }
    part.rec.compensationSucceeded(step.name, 1, now - began);
    part.stamp();
    part.flush();
  }
  return cutStory(events, plan);
}

function transient(service: string) {
  return {
    category: "transient" as const,
    message: `${service} is unavailable (injected fault)`,
    code: "UNAVAILABLE",
  };
}

function refusal(step: number, order: ReturnType<typeof randomOrder>) {
  if (step === 1)
    return {
      category: "business" as const,
      message: `insufficient funds: 0 < ${order.amountCents} cents`,
      code: "DECLINED",
    };
  if (step === 2)
    return {
      category: "business" as const,
      message: `out of stock: ${order.sku} has 0, ${order.quantity} wanted`,
      code: "SOLD_OUT",
    };
  return {
    category: "business" as const,
    message: `no carrier delivers to ${order.customerId}'s address`,
    code: "UNSERVICEABLE",
  };
}

/** A story that has not ended: it stops where its participant went quiet. */
function cutStory(events: SagaEvent[], plan: Plan): SagaEvent[] {
  const upTo = (index: number) => (index < 0 ? events : events.slice(0, index + 1));
  const nth = (type: string, n: number) => {
    const hits = events.flatMap((e, i) => (e.type === type ? [i] : []));
    return hits[Math.min(n, hits.length - 1)] ?? -1;
  };
  const choreographed = events[0]?.data.mode === "choreographed";
  switch (plan.kind) {
    case "timed-out": {
      // The orchestrator went down right after reporting the timeout (and the failed attempt).
      const timedOut = events.findIndex((e) => e.type === "io.sagascope.saga.timed_out");
      return upTo(timedOut < 0 ? -1 : timedOut + 1);
    }
    case "stuck-running":
      // Orchestrated: a step began and never answered. Choreographed: the next participant
      // never reacted (a participant records its start and its success in one transaction).
      return choreographed
        ? upTo(nth("io.sagascope.saga.step.succeeded", Math.floor(plan.cut * 3)))
        : upTo(nth("io.sagascope.saga.step.started", Math.floor(plan.cut * 2)));
    case "stuck-compensating":
      return choreographed ? events : upTo(nth("io.sagascope.saga.compensation.started", 0));
    case "in-flight": {
      // Just started: somewhere before its end.
      const moves = choreographed ? "io.sagascope.saga.step.succeeded" : "io.sagascope.saga.step.started";
      const count = events.filter((e) => e.type === moves).length;
      return upTo(nth(moves, Math.floor(plan.cut * count)));
    }
    default:
      return events;
  }
}

// ---------------------------------------------------------------------------------------
// Templates and their summaries.

function toTemplate(pool: SagaTemplate["pool"], kind: SagaKind, events: SagaEvent[]): SagaTemplate {
  const spans = new Map<string, number>();
  const origin = events[0]?.time.getTime() ?? 0;
  const templateEvents = events.map((e): TemplateEvent => {
    if (!spans.has(e.trace.spanId)) spans.set(e.trace.spanId, spans.size);
    const { sagaId: _id, businessKey: _key, ...data } = e.data as Record<string, unknown>;
    const d = e.data as { step?: string; stepIndex?: number; service?: string };
    return {
      type: e.type,
      source: e.source,
      step: d.step ?? null,
      stepIndex: d.stepIndex ?? null,
      service: d.service ?? null,
      span: spans.get(e.trace.spanId) ?? 0,
      atMs: e.time.getTime() - origin,
      data,
    };
  });
  const folded = foldSagaEvents(undefined, events);
  if (!folded) throw new Error("a saga story needs at least one event");
  const ms = (d: Date | null) => (d === null ? null : d.getTime() - origin);
  const first = events[0] as SagaEvent;
  return {
    pool,
    kind,
    sagaType: first.data.sagaType,
    mode: first.data.mode,
    idPrefix: first.data.mode === "orchestrated" ? "transfer-" : "order-",
    events: templateEvents,
    summary: {
      status: folded.status,
      currentStep: folded.currentStep,
      failedStep: folded.failedStep,
      failureReason: folded.failureReason,
      lastProgressMs: ms(folded.lastProgressAt) ?? 0,
      endedMs: ms(folded.endedAt),
      eventCount: folded.eventCount,
      expectedMs: ms(folded.progressExpectedBy),
      progressExpectation: folded.progressExpectation,
      services: folded.services,
    },
  };
}

function story(type: "transfer" | "checkout", plan: Plan): SagaEvent[] {
  return type === "transfer" ? transferEvents(plan) : checkoutEvents(plan);
}

/** Splits `count` by shares, exactly (largest remainder). */
function apportion(count: number, shares: number[]): number[] {
  const raw = shares.map((s) => s * count);
  const whole = raw.map(Math.floor);
  const order = raw.map((r, i) => [r - Math.floor(r), i] as const).sort((a, b) => b[0] - a[0]);
  for (let left = count - whole.reduce((a, b) => a + b, 0), k = 0; left > 0; left--, k++) {
    const i = order[k % order.length]?.[1] ?? 0;
    whole[i] = (whole[i] ?? 0) + 1;
  }
  return whole;
}

export interface TemplateOptions {
  /** Templates for sagas that started long ago (their shares follow SETTLED_MIX). */
  settled: number;
  /** Templates for sagas that started in the last seconds. */
  inFlight: number;
  /** The mean number of events per settled saga to aim at, by adding retried attempts. */
  eventsPerSaga: number;
  seed: number;
}

export function buildSagaTemplates(options: TemplateOptions): SagaTemplate[] {
  const random = seededRandom(options.seed);
  const plans: Array<{ type: "transfer" | "checkout"; pool: SagaTemplate["pool"]; plan: Plan }> = [];
  const counts = apportion(
    options.settled,
    SETTLED_MIX.map((m) => m.share),
  );
  SETTLED_MIX.forEach((mix, i) => {
    for (let n = 0; n < (counts[i] ?? 0); n++) {
      const steps = mix.type === "transfer" ? 2 : CHECKOUT_SERVICES.length;
      plans.push({
        type: mix.type,
        pool: "settled",
        plan: {
          kind: mix.kind,
          failAt: 1 + Math.floor(random() * (steps - 1)),
          retries: Array.from({ length: steps }, () => 0),
          cut: random(),
          seed: Math.floor(random() * 2 ** 31),
        },
      });
    }
  });
  for (let n = 0; n < options.inFlight; n++) {
    const type = n % 2 === 0 ? "transfer" : "checkout";
    const steps = type === "transfer" ? 2 : CHECKOUT_SERVICES.length;
    plans.push({
      type,
      pool: "in-flight",
      plan: {
        kind: "in-flight",
        failAt: 1 + Math.floor(random() * (steps - 1)),
        retries: Array.from({ length: steps }, () => 0),
        cut: random(),
        seed: Math.floor(random() * 2 ** 31),
      },
    });
  }
  const templates = plans.map((p) => toTemplate(p.pool, p.plan.kind, story(p.type, p.plan)));

  // Retried attempts bring the mean up to the asked number of events: a busy fleet retries.
  const settled = plans.flatMap((p, i) => (p.pool === "settled" ? [i] : []));
  const wanted = options.eventsPerSaga * settled.length;
  let total = settled.reduce((sum, i) => sum + (templates[i]?.events.length ?? 0), 0);
  const retryable = settled.filter((i) => ["completed", "compensated"].includes(plans[i]?.plan.kind ?? ""));
  const maxRetries = 2; // both the orchestrator and the participants try a step 3 times
  while (total < wanted && retryable.length > 0) {
    const slot = Math.floor(random() * retryable.length);
    const i = retryable[slot] as number;
    const p = plans[i] as (typeof plans)[number];
    // Only steps that end well are retried into success; the refused one is refused at once.
    const open = p.plan.retries.flatMap((r, step) =>
      r < maxRetries && (p.plan.kind === "completed" || step < p.plan.failAt) ? [step] : [],
    );
    if (open.length === 0) {
      retryable.splice(slot, 1);
      continue;
    }
    const step = pick(random, open);
    p.plan.retries[step] = (p.plan.retries[step] ?? 0) + 1;
    const rebuilt = toTemplate(p.pool, p.plan.kind, story(p.type, p.plan));
    total += rebuilt.events.length - (templates[i]?.events.length ?? 0);
    templates[i] = rebuilt;
  }
  return templates;
}

/** What the vocabulary table gets from a template's events (as the ingester records it). */
export function templateVocabulary(
  template: SagaTemplate,
): Array<["saga_type" | "service" | "step" | "type_service" | "type_mode", string]> {
  const words: Array<["saga_type" | "service" | "step" | "type_service" | "type_mode", string]> = [
    ["saga_type", template.sagaType],
    ["type_mode", `${template.sagaType}/${template.mode}`],
  ];
  for (const e of template.events) {
    if (e.service) words.push(["service", e.service], ["type_service", `${template.sagaType}/${e.service}`]);
    if (e.step) words.push(["step", e.step]);
  }
  return words;
}
