// Tools the suite drives from Debian's packages (Chromium, kcat): found, installed when we
// are root, or the exact command to install them is printed.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export interface DebianTool {
  path: string;
  debianPackage: string;
  /** What needs it, for the message. */
  purpose: string;
}

export const KCAT: DebianTool = {
  path: "/usr/bin/kcat",
  debianPackage: "kcat",
  purpose: "the outside-producer tests and the produce-to-visible load",
};

export const STRESS_NG: DebianTool = {
  path: "/usr/bin/stress-ng",
  debianPackage: "stress-ng",
  purpose: "keeping every core busy under npm run test:loaded",
};

export function ensureDebianTool(tool: DebianTool, log: (line: string) => void): void {
  if (existsSync(tool.path)) return;
  const install = `apt-get update && apt-get install -y ${tool.debianPackage}`;
  if (process.getuid?.() !== 0) {
    throw new Error(`${tool.path} is needed for ${tool.purpose}. Install it with: sudo sh -c '${install}'`);
  }
  log(`${tool.path} is missing; installing Debian's package (apt-get install -y ${tool.debianPackage})…`);
  const result = spawnSync("sh", ["-c", install], {
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  if (result.status !== 0 || !existsSync(tool.path)) {
    throw new Error(`installing ${tool.debianPackage} failed; run it yourself: ${install}`);
  }
}
