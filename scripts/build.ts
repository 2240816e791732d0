// `npm run build`: what production runs, built once. The dashboard as Next.js standalone
// output (.next/standalone, with its static files beside it), and every process as plain
// JavaScript (dist/server: one entry, `sagascope <role>`, each role a chunk loaded on demand;
// packages stay in node_modules). Prints what it made and how long each part took.
import { cpSync, existsSync, rmSync } from "node:fs";
import { build } from "esbuild";
import { step } from "./infra/progress.ts";
import { startChild } from "./processes.ts";

await step("building the processes (dist/server)", async () => {
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
  console.log(`  ${outputs.length} files, ${kib} KiB of JavaScript`);
});

await step("building the dashboard (next build, standalone)", async () => {
  const child = startChild("next", "node_modules/.bin/next", ["build"], {}, "quiet");
  const code = await child.exited;
  if (code !== 0) throw new Error(`next build exited with ${code}`);
  // The standalone server serves static files from beside it.
  cpSync(".next/static", ".next/standalone/.next/static", { recursive: true });
  if (existsSync("public")) cpSync("public", ".next/standalone/public", { recursive: true });
});
console.log("built: `npm start` serves the dashboard; `node bin/sagascope.mjs --help` lists the processes");
