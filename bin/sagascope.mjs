#!/usr/bin/env node
// The `sagascope` command: the built processes (`npm run build` makes dist/server).
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const built = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../dist/server/sagascope.mjs");
if (!existsSync(built)) {
  console.error("sagascope: not built yet; run `npm run build` first");
  process.exit(1);
}
await import(built);
