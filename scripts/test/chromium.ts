// Debian's Chromium for the browser tests: found, installed (when we are root), or the
// exact command to install it is printed. Playwright cannot download its own browser here.
import { ensureDebianTool } from "./debian-tools.ts";

export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--no-first-run",
];

export function ensureChromium(log: (line: string) => void): void {
  ensureDebianTool({ path: CHROMIUM, debianPackage: "chromium", purpose: "the browser tests" }, log);
}
