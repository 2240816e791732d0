// Every view with the fleet running, rendered without an error panel, and photographed:
// into test-results/screenshots in the suite, into docs/screenshots with
// `npm run docs:screenshots` (the README shows them).
import { mkdirSync } from "node:fs";
import { expect, type Page, test } from "@playwright/test";
import pg from "pg";
import { e2eRun } from "./fixtures/e2e-env.ts";

const DIR = process.env.SAGASCOPE_SCREENSHOT_DIR ?? "test-results/screenshots";

async function shoot(page: Page, name: string, ready: string) {
  await expect(page.locator(ready).first()).toBeVisible({ timeout: 30_000 });
  await expect(page.locator(".panel-error")).toHaveCount(0);
  // Charts and live figures settle.
  await page.waitForTimeout(800);
  await page.screenshot({ path: `${DIR}/${name}.png`, fullPage: false });
}

test("every view renders real data, in both themes and on a wall screen", async ({ page }) => {
  test.setTimeout(180_000);
  mkdirSync(DIR, { recursive: true });
  const store = new pg.Pool({ connectionString: e2eRun().databaseUrl, max: 1 });
  try {
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.goto("/overview");
    await expect(page.getByTestId("durations")).not.toContainText("— / —", { timeout: 30_000 });
    await shoot(page, "overview", "[data-testid=time-series-chart]");

    await page.goto("/sagas");
    await shoot(page, "sagas", "[data-saga-id]");

    // A saga that compensated makes the richest page; any ended one will do.
    const { rows } = await store.query<{ saga_id: string; trace_id: string }>(
      `SELECT saga_id, trace_id FROM saga_summary WHERE ended_at IS NOT NULL AND saga_type = 'interbank-transfer'
       ORDER BY (status = 'compensated') DESC, ended_at DESC LIMIT 1`,
    );
    const saga = rows[0];
    expect(saga).toBeTruthy();
    await page.goto(`/sagas/${encodeURIComponent(saga?.saga_id ?? "")}`);
    await shoot(page, "saga-detail", "[data-testid=saga-timeline]");
    await page.goto(`/traces/${saga?.trace_id.trim()}`);
    await shoot(page, "trace", "[data-testid=trace-lanes]");

    await page.goto("/service-map");
    await shoot(page, "service-map", "svg");
    await page.goto("/breakers");
    await shoot(page, "breakers", "[data-state]");
    await page.goto("/projections");
    await shoot(page, "projections", "[data-testid=freshness]");
    await page.goto("/kafka");
    await shoot(page, "kafka", "table");
    await page.goto("/dead-letters");
    await shoot(page, "dead-letters", "h1");
    await page.goto("/audit");
    await shoot(page, "audit", "h1");
    await page.goto("/alerts");
    await shoot(page, "alerts", "h1");
    await page.goto("/operations");
    await shoot(page, "operations", "h1");
    await page.goto("/faults");
    await shoot(page, "faults", "h1");

    await page.goto("/overview");
    await page.getByTestId("theme-toggle").click();
    await page.getByTestId("theme-toggle").click();
    await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
    await shoot(page, "overview-dark", "[data-testid=time-series-chart]");
    await page.setViewportSize({ width: 2560, height: 1440 });
    await page.goto("/overview?wall=1");
    await shoot(page, "overview-wall", "[data-testid=time-series-chart]");
    await page.getByTestId("theme-toggle").click();
  } finally {
    await store.end();
  }
});
