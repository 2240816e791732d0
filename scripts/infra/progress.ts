// Progress lines for long infrastructure work: what is happening and how long it took.

export class PrerequisiteError extends Error {
  override name = "PrerequisiteError";
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function say(line: string): void {
  console.log(`[infra] ${line}`);
}

/** Runs one named step, printing its start and its duration (or its failure). */
export async function step<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  say(`${label}…`);
  try {
    const result = await work();
    say(`✓ ${label} (${seconds(Date.now() - started)})`);
    return result;
  } catch (error) {
    say(`✗ ${label} after ${seconds(Date.now() - started)}`);
    throw error;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns true or `timeoutMs` passes; `givingUp` explains why not. */
export async function waitUntil(
  probe: () => Promise<boolean>,
  {
    timeoutMs,
    intervalMs = 300,
    givingUp,
  }: { timeoutMs: number; intervalMs?: number; givingUp: () => string },
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await sleep(intervalMs);
  }
  throw new PrerequisiteError(givingUp());
}
