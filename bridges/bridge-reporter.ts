// What every breaker bridge does whatever the library: names the pair, counts a stats window
// from the calls the library reports, publishes breaker.state_changed and breaker.stats on
// the breaker events topic, and (with `control`) reads the compacted control channel and
// hands its pair's forced state to the library's adapter, reporting it back so that the
// dashboard knows it was applied. The adapters (opossum.ts, cockatiel.ts) only translate.
import type { Consumer, Kafka, Producer } from "kafkajs";
import {
  type BreakerControl,
  type BreakerEvent,
  breakerEvent,
  decodeBreakerControl,
  encodeBreakerEvent,
} from "../server/events/index.ts";
import { createConsumer, runConsumer } from "../server/events/kafka-client.ts";
import { createLogger, type Logger } from "../server/log.ts";

export type BridgeState = "closed" | "open" | "half_open";
export type Forced = BreakerControl["forced"];

/** What a service says when it bridges a breaker. */
export interface BridgeOptions {
  producer: Producer;
  /** The breaker events topic: `sagascope.breaker-events`, with the deployment's topic prefix. */
  topic: string;
  caller: string;
  callee: string;
  operation?: string;
  /** This process, as the dashboard names it (host and pid, say). */
  instance: string;
  /** The CloudEvents source; `/<library>/<caller>` when absent. */
  source?: string;
  /** How often a stats window is reported; 10 s when absent. */
  statsEveryMs?: number;
  /** Told when an event could not be sent (the breaker goes on regardless). */
  onSendError?: (error: unknown) => void;
  /**
   * The control channel (`sagascope.breaker-control`, with the deployment's prefix): when
   * given, the bridge obeys an operator's forced state for its pair. `log` hears of its
   * consumer's crashes and restarts (warnings to stderr when absent).
   */
  control?: { kafka: Kafka; topic: string; log?: Logger };
}

export interface Bridge {
  /** Resolves once the bridge reads the control channel (at once without one). */
  controlled: Promise<void>;
  /** Reports the last window and stops listening. */
  stop(): Promise<void>;
}

/** What the library's adapter tells the reporter. */
export interface LibraryAdapter {
  library: string;
  state(): BridgeState;
  /** The thresholds the breaker was built with, as the contract names them. */
  thresholds(): { failureRate: number; minimumCalls: number; openMs: number };
  /** The figures it judged by, for a state change; the bridge's current window when absent. */
  judged?(): { calls: number; failures: number };
  /** The library's own override, when no operator's is in force (opossum's disabled breaker). */
  ownForced(): Forced;
  /** Makes the library do what an operator decided (null: its own rules again). */
  applyForced(next: Forced, before: Forced): void;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

const emptyWindow = (start: Date) => ({
  start,
  calls: 0,
  successes: 0,
  failures: 0,
  rejections: 0,
  trials: 0,
});

export function createBridgeReporter(adapter: LibraryAdapter, options: BridgeOptions) {
  const pair = `${options.caller}→${options.callee}${options.operation ? `/${options.operation}` : ""}`;
  const ref = {
    pair,
    caller: options.caller,
    callee: options.callee,
    ...(options.operation ? { operation: options.operation } : {}),
    instance: options.instance,
  };
  const source = options.source ?? `/${adapter.library}/${options.caller}`;
  let operatorForced: Forced = null;
  const forced = (): Forced => operatorForced ?? adapter.ownForced();
  let state = adapter.state();
  let window = emptyWindow(new Date());
  let latencies: number[] = [];

  const send = (event: BreakerEvent) =>
    options.producer
      .send({ topic: options.topic, messages: [encodeBreakerEvent(event)] })
      .catch((error: unknown) => options.onSendError?.(error));

  // A trial and its success can change the state twice in one millisecond (cockatiel's
  // half-open and reset): each change gets a later time than the last, so that the pair's
  // history keeps their order.
  let lastChangeAt = 0;

  /** The library changed state: reported once per actual change. */
  function changed(to: BridgeState, reason: string) {
    const from = state;
    state = to;
    if (from === to) return;
    lastChangeAt = Math.max(Date.now(), lastChangeAt + 1);
    const t = adapter.thresholds();
    const judged = adapter.judged?.() ?? { calls: window.calls, failures: window.failures };
    void send(
      breakerEvent(
        "io.sagascope.breaker.state_changed",
        {
          ...ref,
          from,
          to,
          forced: forced(),
          reason,
          calls: judged.calls,
          failures: judged.failures,
          failureRateThreshold: t.failureRate,
          minimumCalls: Math.max(1, t.minimumCalls),
          ...(to === "open" ? { openUntil: new Date(lastChangeAt + t.openMs).toISOString() } : {}),
        },
        { source, time: new Date(lastChangeAt) },
      ),
    );
  }

  /** The calls the library reports, counted into the current window. */
  const calls = {
    /** A call that reached the callee and succeeded (or failed in a way that does not count). */
    succeeded(latencyMs: number) {
      window.calls += 1;
      window.successes += 1;
      latencies.push(latencyMs);
    },
    failed(latencyMs: number) {
      window.calls += 1;
      window.failures += 1;
      latencies.push(latencyMs);
    },
    /** A call the breaker refused without reaching the callee. */
    rejected() {
      window.rejections += 1;
    },
    /** A call let through as a trial while half-open (also counted when it ends). */
    trial() {
      window.trials += 1;
    },
  };

  async function reportWindow() {
    const end = new Date();
    const sorted = latencies.sort((a, b) => a - b);
    const w = window;
    window = emptyWindow(end);
    latencies = [];
    await send(
      breakerEvent(
        "io.sagascope.breaker.stats",
        {
          ...ref,
          windowStart: w.start.toISOString(),
          windowEnd: end.toISOString(),
          state: adapter.state(),
          forced: forced(),
          calls: w.calls,
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
    const before = operatorForced;
    operatorForced = next;
    adapter.applyForced(next, before);
    // The next report carries the forced state: that is how the dashboard sees it applied.
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
  // so a restarted service applies the decision in force before its first call. A crash kafkajs
  // will not restart (a join refused while the broker has no coordinator for the group yet)
  // is restarted by runConsumer, or the pair would ignore every operator's decision for good.
  let stopped = false;
  let consumer: Consumer | undefined;
  let controlled: Promise<void> = Promise.resolve();
  const control = options.control;
  if (control) {
    consumer = createConsumer(control.kafka, {
      groupId: `sagascope-bridge.${options.instance}.${pair}`,
      allowAutoTopicCreation: false,
    });
    controlled = runConsumer(
      consumer,
      { topics: [control.topic], fromBeginning: true },
      {
        autoCommit: false,
        eachMessage: async ({ message }) => {
          if (message.key?.toString() !== pair || message.value === null) return;
          const decoded = decodeBreakerControl(message);
          if (decoded.ok) apply(decoded.control);
        },
      },
      control.log ?? createLogger(`sagascope-bridge ${pair}`, "warn"),
      () => stopped,
    );
  }

  const timer = setInterval(() => void reportWindow(), options.statsEveryMs ?? 10_000);
  timer.unref();
  return {
    pair,
    /** The operator's forced state in force, if any. */
    operatorForced: () => operatorForced,
    changed,
    calls,
    bridge: (detach: () => void): Bridge => ({
      controlled,
      async stop() {
        stopped = true;
        clearInterval(timer);
        clearTimeout(expiry);
        detach();
        await consumer?.disconnect();
        await reportWindow();
      },
    }),
  };
}
