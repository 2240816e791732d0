import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // Tests are server code: `server-only` resolves to its server build, as in the Next server.
  resolve: {
    alias: { "server-only": fileURLToPath(new URL("node_modules/server-only/empty.js", import.meta.url)) },
  },
  test: {
    include: [
      "server/**/*.test.ts",
      "scripts/**/*.test.ts",
      "docs/**/*.test.ts",
      "bridges/**/*.test.ts",
      "components/**/*.test.ts",
      "browser-safe/**/*.test.ts",
    ],
    globalSetup: ["scripts/test/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests start Kafka consumer groups; two at a time suits two cores.
    maxWorkers: 2,
    reporters: ["default"],
  },
});
