// The two halves of `npm run build`, also used by the demo: the processes as plain JavaScript
// (dist/server: one entry, `sagascope <role>`, each role a chunk loaded on demand; packages
// stay in node_modules) and the dashboard as Next.js standalone output with its static files.
import { cpSync, existsSync, rmSync } from "node:fs";
import { build } from "esbuild";
import { startChild } from "../processes.ts";

/** Returns a line saying what it made. */
export async function buildProcesses(): Promise<string> {
  rmSync("dist", { recursive: true, force: true });
  const result = await build({
    entryPoints: { sagascope: "server/cli.ts" },
    outdir: "dist/server",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20.19",
    packages: "external",
    sourcemap: true,
    outExtension: { ".js": ".mjs" },
    // Some packages are CommonJS and call require(): give the ES modules one.
    banner: {
      js: 'import { createRequire as __sagascopeRequire } from "node:module"; const require = __sagascopeRequire(import.meta.url);',
    },
    metafile: true,
    logLevel: "warning",
  });
  const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith(".mjs"));
  const kib = Math.round(outputs.reduce((n, [, o]) => n + o.bytes, 0) / 1024);
  return `${outputs.length} files, ${kib} KiB of JavaScript in dist/server`;
}

export async function buildDashboard(): Promise<void> {
  const child = startChild("next build", "node_modules/.bin/next", ["build"], {}, "quiet");
  const code = await child.exited;
  if (code !== 0) throw new Error(`next build exited with ${code} (its last lines are above)`);
  // The standalone server serves static files from beside it.
  cpSync(".next/static", ".next/standalone/.next/static", { recursive: true });
  if (existsSync("public")) cpSync("public", ".next/standalone/public", { recursive: true });
}
