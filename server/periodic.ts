// A round of background work every `everyMs`, never two at once: the next round is scheduled
// when the last has finished; a failed round is reported and the next one runs anyway.
export interface Periodic {
  /** Runs the first round after `firstInMs` (by default a whole period), then every period. */
  start(firstInMs?: number): void;
  /** No further round; resolves when the one in hand has finished. */
  stop(): Promise<void>;
}

export function createPeriodic(
  everyMs: number,
  round: () => Promise<unknown>,
  onError: (error: unknown) => void,
): Periodic {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = true;
  const schedule = (inMs = everyMs) => {
    timer = setTimeout(() => {
      running = round()
        .catch(onError)
        .finally(() => {
          if (!stopped) schedule();
        });
    }, inMs);
  };
  return {
    start(firstInMs = everyMs) {
      stopped = false;
      schedule(firstInMs);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
