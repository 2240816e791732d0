// Keeps every core busy with other work, so that the suite can be proven to hold on a
// loaded machine: Debian's stress-ng when it is installed, otherwise one Node busy loop
// per core. Each hog runs in its own process group and is stopped by pid.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";

export interface CpuHog {
  /** What keeps the cores busy, for the report. */
  description: string;
  stop(): void;
}

const hasStressNg = () => spawnSync("sh", ["-c", "command -v stress-ng"], { stdio: "ignore" }).status === 0;

export function startCpuHog(cores = availableParallelism()): CpuHog {
  const children: ChildProcess[] = [];
  let description: string;
  if (hasStressNg()) {
    // --cpu-method=loop: a plain arithmetic loop, all user time, like a busy neighbour.
    children.push(
      spawn("stress-ng", ["--cpu", String(cores), "--cpu-method", "loop", "--timeout", "0", "--quiet"], {
        stdio: "ignore",
        detached: true,
      }),
    );
    description = `stress-ng --cpu ${cores} (one busy loop per core)`;
  } else {
    for (let i = 0; i < cores; i++)
      children.push(spawn(process.execPath, ["-e", "for(;;){}"], { stdio: "ignore", detached: true }));
    description = `${cores} Node busy loops (stress-ng is not installed)`;
  }
  const stop = () => {
    for (const child of children) {
      if (child.pid === undefined || child.exitCode !== null) continue;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  };
  // Never left behind, whatever ends this process.
  process.once("exit", stop);
  return { description, stop };
}
