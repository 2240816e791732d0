// A CPU profile of one phase of a benchmark (not of its set-up), from V8's own profiler through
// node:inspector: written where --profile names as a .cpuprofile (Chrome DevTools opens it) and
// summed up as the functions with the most time of their own, grouped by module. The answer
// to "where does this process spend its time" that the CPU split cannot give.
import { mkdir, writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { join } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** Self time by function ("name (module)"), largest first. */
  top: { name: string; ms: number }[];
}

/** The module a frame belongs to, short: a package's name, or the file under this repository. */
function moduleOf(url: string): string {
  if (!url) return "";
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inPackage) return inPackage[1] as string;
  if (url.startsWith("node:")) return url;
  return url
    .replace(/^file:\/\//, "")
    .split("/")
    .slice(-2)
    .join("/");
}

export function summarizeProfile(profile: Profile, count = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)?.callFrame;
    const us = profile.timeDeltas[i] ?? 0;
    total += us;
    if (!frame) return;
    const where = moduleOf(frame.url);
    const name = `${frame.functionName || "(anonymous)"}${where ? ` (${where})` : ""}`;
    self.set(name, (self.get(name) ?? 0) + us);
  });
  const top = [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => ({ name, ms: Math.round(us / 1000) }));
  return { totalMs: Math.round(total / 1000), top };
}

/** Runs `work` under the profiler when a directory is given; the profile is written there as `<name>.cpuprofile`. */
export async function withCpuProfile<T>(
  dir: string | undefined,
  name: string,
  work: () => Promise<T>,
): Promise<{ result: T; profile?: ProfileSummary; file?: string }> {
  if (!dir) return { result: await work() };
  // Made before the work, so a long profiled run is never lost to a missing directory.
  await mkdir(dir, { recursive: true });
  const session = new Session();
  session.connect();
  try {
    await session.post("Profiler.enable");
    await session.post("Profiler.start");
    const result = await work();
    const { profile } = (await session.post("Profiler.stop")) as unknown as { profile: Profile };
    const file = join(dir, `${name}.cpuprofile`);
    await writeFile(file, JSON.stringify(profile));
    return { result, profile: summarizeProfile(profile), file };
  } finally {
    session.disconnect();
  }
}

export function formatProfile(summary: ProfileSummary): string {
  const busy = summary.top.filter((t) => t.name !== "(idle)");
  const idle = summary.top.find((t) => t.name === "(idle)")?.ms ?? 0;
  const lines = busy.map(
    (t) =>
      `      ${String(t.ms).padStart(6)} ms  ${((t.ms / summary.totalMs) * 100).toFixed(1).padStart(5)}%  ${t.name}`,
  );
  return [
    `    ${summary.totalMs} ms profiled, ${idle} ms of it idle; most time of their own:`,
    ...lines,
  ].join("\n");
}
