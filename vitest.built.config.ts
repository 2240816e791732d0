// The tests of the built processes: run by `npm test` once `npm run build` has made them.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["scripts/test/*.built-test.ts"],
    globalSetup: ["scripts/test/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
  },
});
