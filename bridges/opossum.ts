// Reports an opossum circuit breaker to Sagascope as a caller→callee pair, through the
// service's own kafkajs producer: every state change as breaker.state_changed, and a stats
// window every `statsEveryMs` as breaker.stats (docs/breakers.md, "Breakers of other
// libraries"). opossum decides; with `control`, the bridge also applies an operator's forced
// state from the control channel (open: opossum's open(), kept open; closed: opossum's
// disable(), every call goes through; cleared or expired: enable() and close()), and reports
// the forced state back, which is how the dashboard knows it was applied.
import type { EventEmitter } from "node:events";
import type CircuitBreaker from "opossum";
import {
  type Bridge,
  type BridgeOptions,
  type BridgeState,
  createBridgeReporter,
} from "./bridge-reporter.ts";

export type OpossumBridgeOptions = BridgeOptions;
export type OpossumBridge = Bridge;

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

const stateOf = (b: CircuitBreaker): BridgeState => (b.opened ? "open" : b.halfOpen ? "half_open" : "closed");

export function bridgeOpossum(breaker: CircuitBreaker, options: OpossumBridgeOptions): OpossumBridge {
  const reporter = createBridgeReporter(
    {
      library: "opossum",
      state: () => stateOf(breaker),
      thresholds: () => {
        const s = settingsOf(breaker);
        return {
          failureRate: s.errorThresholdPercentage / 100,
          minimumCalls: s.volumeThreshold,
          openMs: s.resetTimeout,
        };
      },
      judged: () => ({ calls: breaker.stats.fires, failures: breaker.stats.failures }),
      // opossum's own disabled breaker lets every call through: forced "disabled".
      ownForced: () => (breaker.enabled ? null : "disabled"),
      applyForced(next, before) {
        if (next === "open") {
          breaker.enable();
          breaker.open();
        } else if (next) breaker.disable();
        else if (before) {
          breaker.enable();
          breaker.close();
        }
      },
    },
    options,
  );
  const listeners = {
    open: () =>
      reporter.changed(
        "open",
        reporter.operatorForced() === "open"
          ? "forced open by an operator (control channel)"
          : "opossum opened: the failure percentage reached errorThresholdPercentage",
      ),
    halfOpen: () => {
      // Forced open: opossum's resetTimeout must not let a trial through.
      if (reporter.operatorForced() === "open") breaker.open();
      else reporter.changed("half_open", "opossum's resetTimeout passed: the next call is a trial");
    },
    close: () => reporter.changed("closed", "opossum closed"),
    fire: () => {
      if (breaker.halfOpen) reporter.calls.trial();
    },
    success: (_result: unknown, latencyMs: number) => reporter.calls.succeeded(latencyMs),
    failure: (_error: unknown, latencyMs: number) => reporter.calls.failed(latencyMs),
    reject: () => reporter.calls.rejected(),
  };
  // Listened to as the EventEmitter it is: opossum's typings overload `on` per event name.
  const emitter = breaker as unknown as EventEmitter;
  for (const [event, listener] of Object.entries(listeners)) emitter.on(event, listener);
  return reporter.bridge(() => {
    for (const [event, listener] of Object.entries(listeners)) emitter.removeListener(event, listener);
  });
}
