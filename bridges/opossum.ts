// Reports an opossum circuit breaker to Sagascope as a caller→callee pair, through the
// service's own kafkajs producer: every state change as breaker.state_changed, and a stats
// window every `statsEveryMs` as breaker.stats (docs/breakers.md, "Breakers of other
// libraries"). opossum decides; with `control`, the bridge also applies an operator's forced
// state from the control channel (open: opossum's open(), kept open; closed: opossum's
// disable(), every call goes through; cleared or expired: enable() and close()), and reports
// the forced state back, which is how the dashboard knows it was applied.
import type { EventEmitter } from "node:events";
import type { Kafka, Producer } from "kafkajs";
import type CircuitBreaker from "opossum";
import {
  type BreakerControl,
  type BreakerEvent,
  breakerEvent,
  decodeBreakerControl,
  encodeBreakerEvent,
} from "../server/events/index.ts";

export interface OpossumBridgeOptions {
  producer: Producer;
  /** The breaker events topic: `sagascope.breaker-events`, with the deployment's topic prefix. */
  topic: string;
  caller: string;
  callee: string;
  operation?: string;
  /** This process, as the dashboard names it (host and pid, say). */
  instance: string;
  /** The CloudEvents source; `/opossum/<caller>` when absent. */
  source?: string;
  /** How often a stats window is reported; 10 s when absent. */
  statsEveryMs?: number;
  /** Told when an event could not be sent (the breaker goes on regardless). */
  onSendError?: (error: unknown) => void;
  /**
   * The control channel (`sagascope.breaker-control`, with the deployment's prefix): when
   * given, the bridge obeys an operator's forced state for its pair.
   */
  control?: { kafka: Kafka; topic: string };
}

export interface OpossumBridge {
  /** Resolves once the bridge reads the control channel (at once without one). */
  controlled: Promise<void>;
  /** Reports the last window and stops listening. */
  stop(): Promise<void>;
}

type Forced = BreakerControl["forced"];

/** opossum's documented defaults, for options the breaker was built without. */
const OPOSSUM_DEFAULTS = { errorThresholdPercentage: 50, volumeThreshold: 0, resetTimeout: 30_000 };

/** The options the breaker was built with (opossum keeps them on the instance, untyped). */
function settingsOf(breaker: CircuitBreaker): typeof OPOSSUM_DEFAULTS {
  const options = (breaker as unknown as { options?: Partial<typeof OPOSSUM_DEFAULTS> }).options ?? {};
  return {
    errorThresholdPercentage: options.errorThresholdPercentage ?? OPOSSUM_DEFAULTS.errorThresholdPercentage,
    volumeThreshold: options.volumeThreshold ?? OPOSSUM_DEFAULTS.volumeThreshold,
    resetTimeout: options.resetTimeout ?? OPOSSUM_DEFAULTS.resetTimeout,
  };
}

type State = "closed" | "open" | "half_open";
const stateOf = (b: CircuitBreaker): State => (b.opened ? "open" : b.halfOpen ? "half_open" : "closed");

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

export function bridgeOpossum(breaker: CircuitBreaker, options: OpossumBridgeOptions): OpossumBridge {
  const pair = `${options.caller}→${options.callee}${options.operation ? `/${options.operation}` : ""}`;
  const ref = {
    pair,
    caller: options.caller,
    callee: options.callee,
    ...(options.operation ? { operation: options.operation } : {}),
    instance: options.instance,
  };
  const source = options.source ?? `/opossum/${options.caller}`;
  // An operator's forced state, when the control channel set one; else opossum's own disabled
  // breaker (every call goes through) is what Sagascope calls forced "disabled".
  let forcedState: Forced = null;
  const forced = (): Forced => forcedState ?? (breaker.enabled ? null : "disabled");
  let state = stateOf(breaker);
  let window = { start: new Date(), calls: 0, successes: 0, failures: 0, rejections: 0, trials: 0 };
  let latencies: number[] = [];

  const send = (event: BreakerEvent) =>
    options.producer
      .send({ topic: options.topic, messages: [encodeBreakerEvent(event)] })
      .catch((error: unknown) => options.onSendError?.(error));

  function changed(to: State, reason: string) {
    const from = state;
    state = to;
    if (from === to) return;
    const settings = settingsOf(breaker);
    const stats = breaker.stats;
    void send(
      breakerEvent(
        "io.sagascope.breaker.state_changed",
        {
          ...ref,
          from,
          to,
          forced: forced(),
          reason,
          calls: stats.fires,
          failures: stats.failures,
          failureRateThreshold: settings.errorThresholdPercentage / 100,
          minimumCalls: Math.max(1, settings.volumeThreshold),
          ...(to === "open" ? { openUntil: new Date(Date.now() + settings.resetTimeout).toISOString() } : {}),
        },
        { source },
      ),
    );
  }

  const listeners = {
    open: () =>
      changed(
        "open",
        forcedState === "open"
          ? "forced open by an operator (control channel)"
          : "opossum opened: the failure percentage reached errorThresholdPercentage",
      ),
    halfOpen: () => {
      // Forced open: opossum's resetTimeout must not let a trial through.
      if (forcedState === "open") breaker.open();
      else changed("half_open", "opossum's resetTimeout passed: the next call is a trial");
    },
    close: () =>
      changed(
        "closed",
        state === "half_open" ? "opossum closed: the trial call succeeded" : "opossum closed",
      ),
    fire: () => {
      window.calls += 1;
      if (breaker.halfOpen) window.trials += 1;
    },
    success: (_result: unknown, latencyMs: number) => {
      window.successes += 1;
      latencies.push(latencyMs);
    },
    failure: (_error: unknown, latencyMs: number) => {
      window.failures += 1;
      latencies.push(latencyMs);
    },
    reject: () => {
      window.rejections += 1;
    },
  };
  // Listened to as the EventEmitter it is: opossum's typings overload `on` per event name.
  const emitter = breaker as unknown as EventEmitter;
  for (const [event, listener] of Object.entries(listeners)) emitter.on(event, listener);

  async function reportWindow() {
    const end = new Date();
    const sorted = latencies.sort((a, b) => a - b);
    const w = window;
    window = { start: end, calls: 0, successes: 0, failures: 0, rejections: 0, trials: 0 };
    latencies = [];
    await send(
      breakerEvent(
        "io.sagascope.breaker.stats",
        {
          ...ref,
          windowStart: w.start.toISOString(),
          windowEnd: end.toISOString(),
          state: stateOf(breaker),
          forced: forced(),
          // opossum counts a rejected call as fired; the contract counts calls that reached the callee.
          calls: Math.max(0, w.calls - w.rejections),
          successes: w.successes,
          business: 0,
          failures: w.failures,
          rejections: w.rejections,
          trials: w.trials,
          latencyMs: {
            p50: percentile(sorted, 50),
            p95: percentile(sorted, 95),
            p99: percentile(sorted, 99),
            max: sorted.at(-1) ?? 0,
          },
        },
        { source, time: end },
      ),
    );
  }

  let appliedVersion = -1;
  let expiry: NodeJS.Timeout | undefined;
  function setForced(next: Forced) {
    const before = forcedState;
    forcedState = next;
    if (next === "open") {
      breaker.enable();
      breaker.open();
    } else if (next) breaker.disable();
    else if (before) {
      breaker.enable();
      breaker.close();
    }
    void reportWindow();
  }
  function apply(control: BreakerControl) {
    if (control.pair !== pair || control.version <= appliedVersion) return;
    appliedVersion = control.version;
    clearTimeout(expiry);
    const until = control.forcedUntil ? Date.parse(control.forcedUntil) : null;
    const live = until === null || until > Date.now();
    setForced(live ? control.forced : null);
    if (live && control.forced && until !== null) {
      expiry = setTimeout(() => setForced(null), until - Date.now());
      expiry.unref();
    }
  }

  // No offset is ever committed: each start reads the compacted channel from its beginning,
  // so a restarted service applies the decision in force before its first call.
  const consumer = options.control?.kafka.consumer({
    groupId: `sagascope-bridge.${options.instance}.${pair}`,
    allowAutoTopicCreation: false,
  });
  const controlled = consumer
    ? (async () => {
        await consumer.connect();
        await consumer.subscribe({ topic: options.control?.topic as string, fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachMessage: async ({ message }) => {
            if (message.key?.toString() !== pair || message.value === null) return;
            const decoded = decodeBreakerControl(message);
            if (decoded.ok) apply(decoded.control);
          },
        });
      })()
    : Promise.resolve();

  const timer = setInterval(() => void reportWindow(), options.statsEveryMs ?? 10_000);
  timer.unref();
  return {
    controlled,
    async stop() {
      clearInterval(timer);
      clearTimeout(expiry);
      await consumer?.disconnect();
      for (const [event, listener] of Object.entries(listeners)) emitter.removeListener(event, listener);
      await reportWindow();
    },
  };
}
