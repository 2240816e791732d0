// Reports a cockatiel circuit breaker policy to Sagascope as a caller→callee pair (see
// bridge-reporter.ts for what is sent). cockatiel announces state changes and finished calls
// but not the calls it refuses, so the service calls through the bridge's `execute`, which
// also applies an operator's forced state from the control channel: open is cockatiel's own
// isolate(); closed or disabled runs the call without the policy; cleared or expired hands
// the calls back to the policy.
import { BrokenCircuitError, type CircuitBreakerPolicy, CircuitState, IsolatedCircuitError } from "cockatiel";
import {
  type Bridge,
  type BridgeOptions,
  type BridgeState,
  createBridgeReporter,
} from "./bridge-reporter.ts";

export interface CockatielBridgeOptions extends BridgeOptions {
  /**
   * The thresholds the policy was built with, as the contract names them (cockatiel keeps its
   * breaker's private): a SamplingBreaker's `threshold` is the failure rate and its minimum
   * calls per window; a ConsecutiveBreaker(n) opens at a failure rate of 1 after n calls.
   * `openMs` is the policy's `halfOpenAfter`.
   */
  thresholds: { failureRate: number; minimumCalls: number; openMs: number };
}

export interface CockatielBridge extends Bridge {
  /** Runs `fn` through the policy (or as an operator forced it), counting it. */
  execute<T>(fn: () => PromiseLike<T> | T): Promise<T>;
}

const STATES: Record<CircuitState, BridgeState> = {
  [CircuitState.Closed]: "closed",
  [CircuitState.Open]: "open",
  [CircuitState.HalfOpen]: "half_open",
  [CircuitState.Isolated]: "open",
};

export function bridgeCockatiel(
  policy: CircuitBreakerPolicy,
  options: CockatielBridgeOptions,
): CockatielBridge {
  let isolation: { dispose(): void } | undefined;
  const reporter = createBridgeReporter(
    {
      library: "cockatiel",
      state: () => STATES[policy.state],
      thresholds: () => options.thresholds,
      // Isolated by the service itself (not by an operator): forced open all the same.
      ownForced: () => (policy.state === CircuitState.Isolated ? "open" : null),
      applyForced(next) {
        if (next === "open") isolation ??= policy.isolate();
        else {
          isolation?.dispose();
          isolation = undefined;
        }
      },
    },
    options,
  );
  const subscriptions = [
    policy.onBreak(() =>
      reporter.changed(
        "open",
        policy.state === CircuitState.Isolated
          ? "isolated (forced open)"
          : "cockatiel broke the circuit: its breaker's threshold was reached",
      ),
    ),
    policy.onHalfOpen(() =>
      reporter.changed("half_open", "cockatiel's halfOpenAfter passed: the next call is a trial"),
    ),
    policy.onReset(() => reporter.changed("closed", "cockatiel reset the circuit")),
    policy.onSuccess(({ duration }) => reporter.calls.succeeded(duration)),
    policy.onFailure(({ duration }) => reporter.calls.failed(duration)),
  ];
  const bridge = reporter.bridge(() => {
    for (const s of subscriptions) s.dispose();
  });

  async function bypass<T>(fn: () => PromiseLike<T> | T): Promise<T> {
    const started = performance.now();
    try {
      const result = await fn();
      reporter.calls.succeeded(performance.now() - started);
      return result;
    } catch (error) {
      reporter.calls.failed(performance.now() - started);
      throw error;
    }
  }

  return {
    ...bridge,
    async execute(fn) {
      const forced = reporter.operatorForced();
      if (forced === "closed" || forced === "disabled") return bypass(fn);
      if (policy.state === CircuitState.HalfOpen) reporter.calls.trial();
      try {
        return await policy.execute(() => fn());
      } catch (error) {
        if (error instanceof BrokenCircuitError || error instanceof IsolatedCircuitError)
          reporter.calls.rejected();
        throw error;
      }
    },
  };
}
