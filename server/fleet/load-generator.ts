// Starts work at a steady rate with a cap on how much is in flight; stop() waits for it.
export interface LoadGenerator {
  start(): void;
  stop(): Promise<void>;
  stats(): { started: number; inFlight: number; skipped: number };
}

export function createLoadGenerator(options: {
  ratePerSecond: number;
  maxInFlight: number;
  startOne: () => Promise<unknown>;
  onError: (error: unknown) => void;
}): LoadGenerator {
  const inFlight = new Set<Promise<unknown>>();
  let timer: NodeJS.Timeout | undefined;
  let started = 0;
  let skipped = 0;
  const tick = () => {
    if (inFlight.size >= options.maxInFlight) {
      skipped += 1;
      return;
    }
    started += 1;
    const work = options.startOne().catch(options.onError);
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };
  return {
    start() {
      timer ??= setInterval(tick, 1000 / options.ratePerSecond);
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await Promise.allSettled([...inFlight]);
    },
    stats: () => ({ started, inFlight: inFlight.size, skipped }),
  };
}
