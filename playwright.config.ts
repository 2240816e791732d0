import { defineConfig } from "@playwright/test";
import { E2E_BASE_URL } from "./e2e/fixtures/e2e-env.ts";
import { CHROMIUM, CHROMIUM_ARGS } from "./scripts/test/chromium.ts";

export default defineConfig({
  testDir: "e2e",
  timeout: 60_000,
  expect: { timeout: 20_000 },
  workers: 1,
  fullyParallel: false,
  retries: 0,
  reporter: [["list"], ["json", { outputFile: "test-results/playwright.json" }]],
  globalSetup: "./e2e/fixtures/global-setup.ts",
  outputDir: "test-results/playwright",
  use: {
    baseURL: E2E_BASE_URL,
    screenshot: "only-on-failure",
    launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS },
  },
  projects: [{ name: "chromium", use: { browserName: "chromium", viewport: { width: 1400, height: 900 } } }],
});
