// The breakers page against the real fleet: bank B starts failing (fault injection), and the
// orchestrator→bank B pair turns open on the page without a reload, in the list and as a red
// cell of the matrix; selecting the cell shows the pair's detail (state band, failure-rate
// chart, settings, transitions) with the pair in the URL; bank B recovers, a trial call gets
// through and the pair turns closed again.
import { expect, test } from "./fixtures/fleet.ts";
import { GREEN, PAIR, QUICK_BREAKER, RED } from "./fixtures/quick-breaker.ts";

test("a failing callee turns its pair open live, and recovery closes it again", async ({ page, fleet }) => {
  test.setTimeout(150_000);
  await fleet.tuneBreaker(PAIR, QUICK_BREAKER);
  await page.goto("/breakers");
  const row = page.locator(`tr[data-pair="${PAIR}"]`);
  const cell = page.getByTestId("breaker-matrix").locator(`a[data-pair="${PAIR}"]`);
  await expect(row).toHaveAttribute("data-state", "closed", { timeout: 60_000 });
  await expect(cell).toHaveAttribute("data-state", "closed");
  await expect(cell).toHaveCSS("border-top-color", GREEN);
  await expect(page.getByTestId("live-indicator")).toHaveText(/live/);
  const loads: string[] = [];
  page.on("load", () => loads.push(page.url()));

  await fleet.setFaults("bank-b", { errorRate: 1 });
  await expect(row).toHaveAttribute("data-state", "open", { timeout: 60_000 });
  await expect(row.getByTestId("breaker-state")).toHaveText("open");
  await expect(row).toContainText(/failure rate \d+\.\d% >= 50\.0%/);
  // The matrix cell turns red with it, and says so to assistive technology.
  await expect(cell).toHaveAttribute("data-state", "open");
  await expect(cell).toHaveCSS("border-top-color", RED);
  await expect(cell).toHaveAccessibleName(/^transfers → bank-b: open; failure rate \d+%/);

  // Selecting the cell puts the pair in the URL and opens its detail, without a reload.
  await cell.click();
  await expect(page).toHaveURL(/[?&]pair=transfers%E2%86%92bank-b/);
  const detail = page.getByTestId("breaker-detail");
  await expect(detail).toHaveAttribute("data-pair", PAIR);
  await expect(cell).toHaveAttribute("aria-current", "true");
  const config = detail.getByTestId("breaker-config");
  await expect(config).toContainText("Failure-rate threshold50%");
  await expect(config).toContainText("Minimum calls3 in the window");
  await expect(config).toContainText("Half-open permits1 trial call");
  await expect(config).toContainText("Forced statenone");
  // The transition and the callers' stats reach the page through Kafka and Postgres (stats every 10 s).
  await expect(detail.getByTestId("breaker-transitions")).toContainText("closed → open", {
    timeout: 30_000,
  });
  await expect(detail.getByTestId("state-band").locator('[data-state="open"]').first()).toBeAttached();
  await expect(detail.getByRole("figure", { name: "Failure rate against the threshold" })).toBeVisible({
    timeout: 30_000,
  });
  await expect(detail.getByRole("figure", { name: "Latency percentiles" })).toBeVisible();
  await detail.getByRole("button", { name: "15 min" }).click();
  await expect(page).toHaveURL(/[?&]range=15m/);
  await expect(detail.getByRole("button", { name: "15 min" })).toHaveAttribute("aria-pressed", "true");

  await fleet.setFaults("bank-b", { clear: true });
  await expect(row).toHaveAttribute("data-state", "closed", { timeout: 60_000 });
  await expect(row).toContainText("1 trial call succeeded");
  await expect(cell).toHaveAttribute("data-state", "closed");
  await expect(cell).toHaveCSS("border-top-color", GREEN);
  await expect(detail.getByTestId("detail-state")).toHaveText("closed");
  expect(loads).toEqual([]);

  // The address is shareable: opened afresh, it shows the same pair and range.
  await page.reload();
  await expect(page.getByTestId("breaker-detail")).toHaveAttribute("data-pair", PAIR);
  await expect(page.getByRole("button", { name: "15 min" })).toHaveAttribute("aria-pressed", "true");
});
