// Postgres breaks a deadlock by aborting one of the transactions in it (SQLSTATE 40P01): none
// of that transaction was applied, and its documented remedy is to run it again. For work
// whose writes are all in the transaction (an offset committed elsewhere only after it).
const DEADLOCK_DETECTED = "40P01";

export const isDeadlock = (error: unknown): boolean =>
  typeof error === "object" && error !== null && (error as { code?: unknown }).code === DEADLOCK_DETECTED;

/** Runs `transaction` again when Postgres aborted it to break a deadlock, at most `attempts` times in all. */
export async function retryOnDeadlock<T>(
  transaction: () => Promise<T>,
  onRetry: (attempt: number) => void,
  attempts = 3,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await transaction();
    } catch (error) {
      if (!isDeadlock(error) || attempt >= attempts) throw error;
      onRetry(attempt);
    }
  }
}
