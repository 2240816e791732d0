// Debian's Chromium for the browser tests: found, installed (when we are root), or the
// exact command to install it is printed. Playwright cannot download its own browser here.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--no-first-run",
];
const INSTALL = "apt-get update && apt-get install -y chromium";

export function ensureChromium(log: (line: string) => void): void {
  if (existsSync(CHROMIUM)) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`Chromium is needed for the browser tests. Install it with: sudo sh -c '${INSTALL}'`);
  }
  log("Chromium is missing; installing Debian's package (apt-get install -y chromium)…");
  const result = spawnSync("sh", ["-c", INSTALL], {
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  if (result.status !== 0 || !existsSync(CHROMIUM)) {
    throw new Error(`installing Chromium failed; run it yourself: ${INSTALL}`);
  }
}
