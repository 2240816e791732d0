// A service's local step under its injected faults (error rate, latency), changed at run time.
import { type Faults, withFaults } from "../../fault-switches/faults.ts";

export interface Guard {
  run<T>(work: () => Promise<T>): Promise<T>;
}

export function createGuard(service: string, faults: () => Faults): Guard {
  return withFaults(service, { run: <T>(work: () => Promise<T>) => work() }, faults);
}
