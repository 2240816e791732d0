// The breakers page against the real fleet: bank B starts failing (fault injection), and
// the orchestrator→bank B pair turns open on the page without a reload; bank B recovers,
// a trial call gets through and the pair turns closed again.
import { expect, test } from "@playwright/test";
import { Redis } from "ioredis";
import { createBreakerStore } from "../server/breakers/index.ts";
import { setFaults } from "../server/fleet/fault-control.ts";
import { e2eRun } from "./fixtures/e2e-env.ts";

const PAIR = "transfers→bank-b";

test("a failing callee turns its pair open live, and recovery closes it again", async ({ page }) => {
  test.setTimeout(120_000);
  const { redisUrl, topicPrefix } = e2eRun();
  const redis = new Redis(redisUrl);
  try {
    await createBreakerStore(redis, topicPrefix).setConfig(PAIR, {
      minimumCalls: 3,
      failureRate: 0.5,
      windowMs: 10_000,
      openMs: 2000,
      maxOpenMs: 2000,
      halfOpenPermits: 1,
    });
    await page.goto("/breakers");
    const row = page.locator(`tr[data-pair="${PAIR}"]`);
    await expect(row).toHaveAttribute("data-state", "closed", { timeout: 60_000 });
    await expect(page.getByTestId("live-indicator")).toHaveText(/live/);
    const loads: string[] = [];
    page.on("load", () => loads.push(page.url()));

    await setFaults(redis, topicPrefix, "bank-b", { errorRate: 1 });
    await expect(row).toHaveAttribute("data-state", "open", { timeout: 60_000 });
    await expect(row.getByTestId("breaker-state")).toHaveText("open");
    await expect(row).toContainText(/failure rate \d+\.\d% >= 50\.0%/);

    await setFaults(redis, topicPrefix, "bank-b", { clear: true });
    await expect(row).toHaveAttribute("data-state", "closed", { timeout: 60_000 });
    await expect(row).toContainText("1 trial call succeeded");
    expect(loads).toEqual([]);
  } finally {
    await setFaults(redis, topicPrefix, "bank-b", { clear: true });
    redis.disconnect();
  }
});
