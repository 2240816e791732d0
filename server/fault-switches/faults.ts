// What a service's fault switches say: a share of calls fail as transient errors, every call
// can be slowed down, a consumer can be paused. Changed at run time (fault-control.ts).
import { StepFailure } from "../sagas/index.ts";

export interface Faults {
  /** Share of calls, 0..1, that fail with a transient error. */
  errorRate: number;
  /** Extra latency added to every call, in ms. */
  latencyMs: number;
  /** Share of calls, 0..1, held for `slowMs` before they run: past the caller's timeout, they still land. */
  slowRate: number;
  slowMs: number;
  /** For a consumer (the projector): stop applying while the rest goes on, so lag builds up. */
  paused?: boolean;
}

export const noFaults = (): Faults => ({ errorRate: 0, latencyMs: 0, slowRate: 0, slowMs: 0 });

/** Wraps every async method of `api` so that it obeys the current `faults`. */
export function withFaults<T extends object>(
  service: string,
  api: T,
  faults: () => Faults,
  random = Math.random,
): T {
  return new Proxy(api, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        const { errorRate, latencyMs, slowRate, slowMs } = faults();
        const delay = latencyMs + (random() < slowRate ? slowMs : 0);
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        if (random() < errorRate)
          throw StepFailure.transient(`${service} is unavailable (injected fault)`, "UNAVAILABLE");
        return value.apply(target, args);
      };
    },
  });
}
