// The CPU one Postgres backend has spent, read from /proc on this machine: the store's own cost
// in Postgres, apart from the client's and everything else the machine does. The machine-wide
// split (cpu-split.ts) moves by a fifth from minute to minute here; one backend's time for the
// same statements moves by far less, and it is what told a costlier store apart when the
// ingest runs could not (docs/database.md).
import { processTicks, TICKS_PER_SECOND } from "./cpu-split.ts";

export interface BackendCpu {
  /** The backend's process id (pg_backend_pid()). */
  pid: number;
  /** Microseconds of CPU (user and system) the backend has spent since it started. */
  spentUs(): Promise<number>;
}

/**
 * The backend serving `client`, or undefined when Postgres does not run on this machine (its
 * process cannot be read here): then there is no figure, rather than a wrong one.
 */
export async function backendCpuOf(client: {
  query(sql: string): Promise<{ rows: { pid: number }[] }>;
}): Promise<BackendCpu | undefined> {
  const { rows } = await client.query("SELECT pg_backend_pid() AS pid");
  const pid = rows[0]?.pid as number;
  const found = processTicks(String(pid));
  if (!found?.command.startsWith("postgres")) return undefined;
  const spentUs = async () => {
    const now = processTicks(String(pid));
    if (!now) throw new Error(`Postgres backend ${pid} is gone`);
    return (now.ticks / TICKS_PER_SECOND) * 1e6;
  };
  return { pid, spentUs };
}
