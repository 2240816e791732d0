// The CPU one Postgres backend has spent, read from /proc on this machine: the store's own cost
// in Postgres, apart from the client's and everything else the machine does. The machine-wide
// split (cpu-split.ts) moves by a fifth from minute to minute here; one backend's time for the
// same statements moves by far less, and it is what told a costlier store apart when the
// ingest runs could not (docs/database.md).
import { readFile } from "node:fs/promises";

/** USER_HZ on Linux: /proc counts CPU time in these ticks (as cpu-split.ts reads it). */
const TICKS_PER_SECOND = 100;

export interface BackendCpu {
  /** The backend's process id (pg_backend_pid()). */
  pid: number;
  /** Microseconds of CPU (user and system) the backend has spent since it started. */
  spentUs(): Promise<number>;
}

/** Fields 14 and 15 of /proc/<pid>/stat (utime, stime), counted after the command's closing parenthesis. */
const UTIME_AFTER_COMMAND = 11;

/**
 * The backend serving `client`, or undefined when Postgres does not run on this machine (its
 * process cannot be read here): then there is no figure, rather than a wrong one.
 */
export async function backendCpuOf(client: {
  query(sql: string): Promise<{ rows: { pid: number }[] }>;
}): Promise<BackendCpu | undefined> {
  const { rows } = await client.query("SELECT pg_backend_pid() AS pid");
  const pid = rows[0]?.pid as number;
  const spentUs = async () => {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[UTIME_AFTER_COMMAND]) + Number(fields[UTIME_AFTER_COMMAND + 1]);
    return (ticks / TICKS_PER_SECOND) * 1e6;
  };
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8");
    if (!cmdline.startsWith("postgres")) return undefined;
    await spentUs();
    return { pid, spentUs };
  } catch {
    return undefined;
  }
}
