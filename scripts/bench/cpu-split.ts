// Where a phase of a benchmark spent the machine's CPU: this process, and every other process
// by command name (postgres, java for Kafka, node by the script it runs, …), from /proc, plus
// what stayed idle. The answer to "where does the time go" that a ratio alone does not give.
import { readdirSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { performance } from "node:perf_hooks";

export const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface ProcessTicks {
  command: string;
  ticks: number;
  /** Of them, a JVM's JIT compiler threads' (absent for a process that is not a JVM). */
  compiling?: number;
}

interface Snapshot {
  at: number;
  self: number;
  /** Ticks so far of every other process, by pid and start time (a reused pid is another process). */
  byProcess: Map<string, ProcessTicks>;
}

/** A process's CPU so far, in ticks, read from /proc (undefined once it is gone). */
export function processTicks(pid: string): { command: string; ticks: number; startedAt: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = stat.lastIndexOf(")");
    const command = stat.slice(stat.indexOf("(") + 1, close);
    const fields = stat.slice(close + 2).split(" ");
    // utime, stime and starttime are fields 14, 15 and 22 of the whole line, 12, 13 and 20 after the command.
    return { command, ticks: Number(fields[11]) + Number(fields[12]), startedAt: fields[19] as string };
  } catch {
    return undefined; // gone meanwhile
  }
}

const SCRIPT = /\.(?:[cm]?[jt]s|tsx)$/;

/**
 * A node process by what it runs: its last script argument outside node_modules ("node
 * server/ingest/main.ts"), else the package whose script it runs ("node playwright-core"), so
 * that the deployment's processes are told apart from each other and from the tools.
 */
export function nodeRole(cmdline: string[]): string {
  const scripts = cmdline.slice(1).filter((a) => SCRIPT.test(a.replace(/^file:\/\//, "")));
  const own = scripts.filter((a) => !a.includes("node_modules/")).at(-1);
  if (own) return `node ${own.replace(/^.*?\/(?=(server|scripts|e2e|bin|bridges)\/)/, "")}`;
  const pkg = scripts.at(-1)?.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//)?.[1];
  return pkg ? `node ${pkg}` : "node";
}

function commandOf(pid: string, command: string): string {
  // Kernel workers are named per CPU and job (kworker/u8:1-writeback): counted as one.
  if (command.startsWith("kworker/")) return "kernel workers";
  if (command !== "node") return command;
  try {
    return nodeRole(readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean));
  } catch {
    return command; // gone meanwhile
  }
}

/** HotSpot names its JIT compiler threads "C1 CompilerThread0", "C2 CompilerThread1", … (cut to 15 characters). */
const JIT_COMPILER_THREAD = /^C[12] CompilerThre/;

/**
 * The ticks so far of a JVM's JIT compiler threads: a young JVM (a broker started for a run)
 * compiles its hot paths for minutes, CPU that a warm one in production no longer spends.
 */
function jitCompilerTicks(pid: string): number {
  let ticks = 0;
  let threads: string[];
  try {
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0; // gone meanwhile
  }
  for (const tid of threads) {
    try {
      if (!JIT_COMPILER_THREAD.test(readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8"))) continue;
      ticks += processTicks(`${pid}/task/${tid}`)?.ticks ?? 0;
    } catch {
      // the thread ended meanwhile
    }
  }
  return ticks;
}

function snapshot(): Snapshot {
  const byProcess = new Map<string, ProcessTicks>();
  let self = 0;
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const p = processTicks(pid);
    if (!p) continue;
    const command = commandOf(pid, p.command);
    if (Number(pid) === process.pid) self = p.ticks;
    else
      byProcess.set(`${pid}@${p.startedAt}`, {
        command,
        ticks: p.ticks,
        ...(command === "java" ? { compiling: jitCompilerTicks(pid) } : {}),
      });
  }
  return { at: Date.now(), self, byProcess };
}

/**
 * Each command's ticks between two snapshots, process by process: one started meanwhile counts
 * whole. One that ended meanwhile (a pool's idle connection closing) is left out: its last ticks
 * are gone with it, and subtracting its earlier ones from the survivors' would understate them.
 */
function ticksBetween(before: Snapshot, after: Snapshot): Map<string, { ticks: number; compiling?: number }> {
  const byCommand = new Map<string, { ticks: number; compiling?: number }>();
  for (const [key, p] of after.byProcess) {
    const earlier = before.byProcess.get(key);
    const sum = byCommand.get(p.command) ?? { ticks: 0 };
    sum.ticks += p.ticks - (earlier?.ticks ?? 0);
    if (p.compiling !== undefined)
      sum.compiling = (sum.compiling ?? 0) + p.compiling - (earlier?.compiling ?? 0);
    byCommand.set(p.command, sum);
  }
  return byCommand;
}

export interface CpuSplit {
  /** Share of the machine's CPU time over the phase, 0–1 each. */
  self: number;
  /**
   * Share of the phase this process's event loop was busy (0–1): near 1, its one thread is
   * the bound, whatever the machine's idle share says (a process of one thread uses at most
   * one core's worth, and its I/O waits behind its own queue).
   */
  loop: number;
  /** `compiling`: of a JVM's share, its JIT compiler threads'. */
  others: { command: string; share: number; compiling?: number }[];
  idle: number;
}

/** Starts watching; `stop()` says how the machine's CPU was spent since. */
export function startCpuSplit(): { stop(): CpuSplit } {
  const before = snapshot();
  const loopBefore = performance.eventLoopUtilization();
  return {
    stop() {
      const after = snapshot();
      const loop = performance.eventLoopUtilization(loopBefore).utilization;
      const capacity = ((after.at - before.at) / 1000) * TICKS_PER_SECOND * cpus().length;
      const others = [...ticksBetween(before, after)]
        .map(([command, { ticks, compiling }]) => ({
          command,
          share: ticks / capacity,
          ...(compiling !== undefined ? { compiling: compiling / capacity } : {}),
        }))
        .filter((o) => o.share >= 0.01)
        .sort((a, b) => b.share - a.share);
      const self = (after.self - before.self) / capacity;
      const used = self + others.reduce((n, o) => n + o.share, 0);
      return { self, loop, others, idle: Math.max(0, 1 - used) };
    },
  };
}

/** Runs `work` and says how the machine's CPU was spent meanwhile. */
export async function withCpuSplit<T>(work: () => Promise<T>): Promise<{ result: T; cpu: CpuSplit }> {
  const watch = startCpuSplit();
  const result = await work();
  return { result, cpu: watch.stop() };
}

const pct = (n: number) => `${Math.round(n * 100)}%`;

export const formatCpuSplit = (cpu: CpuSplit, selfName: string) =>
  [
    `${selfName} ${pct(cpu.self)} (its event loop busy ${pct(cpu.loop)})`,
    ...cpu.others.map(
      (o) =>
        `${o.command} ${pct(o.share)}${o.compiling !== undefined && o.compiling >= 0.01 ? ` (its JIT compiling ${pct(o.compiling)})` : ""}`,
    ),
    `idle ${pct(cpu.idle)}`,
  ].join(", ");

/**
 * The split as CPU time per unit of work, "51 ms of CPU a saga: bench 14, postgres 21, …": what
 * one more saga costs the machine, which a share alone hides when the rate moves between runs.
 * Small units (an event) read better in microseconds: `timeUnit` "µs".
 */
export function formatCpuPerUnit(
  cpu: CpuSplit,
  run: { ms: number; units: number },
  selfName: string,
  unit: string,
  cores = cpus().length,
  timeUnit: "ms" | "µs" = "ms",
): string {
  const scale = timeUnit === "µs" ? 1000 : 1;
  const each = (share: number) => (share * cores * run.ms * scale) / run.units;
  const parts = [{ command: selfName, share: cpu.self }, ...cpu.others].sort((a, b) => b.share - a.share);
  const total = parts.reduce((n, p) => n + each(p.share), 0);
  const figure = (n: number) => (n >= 10 ? n.toFixed(0) : n.toFixed(1));
  return `${figure(total)} ${timeUnit} of CPU ${unit}: ${parts.map((p) => `${p.command} ${figure(each(p.share))}`).join(", ")}`;
}
