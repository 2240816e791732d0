// First step of `npm run demo` and `npm test`: makes a fresh clone runnable.
// Plain Node with no dependencies, because it runs before they are installed.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

const started = Date.now();
const say = (line) => console.log(`[setup] ${line}`);

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`[setup] Node.js 20.19 or newer is required (this is ${process.versions.node}).`);
  process.exit(1);
}

const mtime = (file) => (existsSync(file) ? statSync(file).mtimeMs : 0);

function run(command, args, extraEnv = {}) {
  const result = spawnSync(command, args, { stdio: "inherit", env: { ...process.env, ...extraEnv } });
  if (result.status !== 0) {
    console.error(`[setup] failed: ${command} ${args.join(" ")} (exit ${result.status ?? result.signal})`);
    process.exit(1);
  }
}

// npm records the installed tree in node_modules/.package-lock.json; older than the
// lockfile means the dependencies changed since the last install.
if (mtime("node_modules/.package-lock.json") < mtime("package-lock.json")) {
  say("installing dependencies (npm ci)…");
  const t = Date.now();
  run("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { NEXT_TELEMETRY_DISABLED: "1" });
  say(`dependencies installed in ${((Date.now() - t) / 1000).toFixed(1)} s`);
}

const generatedClient = "server/db/generated/client.ts";
if (mtime(generatedClient) < mtime("prisma/schema.prisma")) {
  say("generating the Prisma client from prisma/schema.prisma…");
  // `prisma generate` never runs the schema engine, but the CLI insists on a path to one
  // and would otherwise download it. Any existing file satisfies it, so offline and
  // locked-down machines generate fine. Migrations do not use the CLI (docs/database.md).
  run("node_modules/.bin/prisma", ["generate"], {
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY || process.execPath,
    PRISMA_HIDE_UPDATE_MESSAGE: "1",
  });
}
// TypeScript types of the gRPC services, from the .proto files (pure JS, works offline).
const protos = readdirSync("proto", { recursive: true })
  .map(String)
  .filter((f) => f.endsWith(".proto"))
  .map((f) => path.join("proto", f));
const stamp = "server/grpc/generated/.stamp";
if (Math.max(...protos.map(mtime)) > mtime(stamp)) {
  say("generating gRPC types from proto/…");
  run("node_modules/.bin/proto-loader-gen-types", [
    "--longs=Number",
    "--enums=String",
    "--defaults",
    "--oneofs",
    "--grpcLib=@grpc/grpc-js",
    "--outDir=server/grpc/generated",
    ...protos,
  ]);
  run("touch", [stamp]);
}
say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
