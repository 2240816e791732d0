// The tests of the built processes: run by `npm test` once `npm run build` has made them.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // Tests are server code: `server-only` resolves to its server build, as in the Next server.
  resolve: {
    alias: { "server-only": fileURLToPath(new URL("node_modules/server-only/empty.js", import.meta.url)) },
  },
  test: {
    include: ["scripts/test/*.built-test.ts"],
    globalSetup: ["scripts/test/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
  },
});
