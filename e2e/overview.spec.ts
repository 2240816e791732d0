// The overview with the fleet running: real figures, a chart of the last hour, and every
// figure a link to the filtered list behind it.
import { expect, test } from "@playwright/test";

test("the overview shows the fleet's figures and each one leads to its filtered list", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/overview$/);
  await expect(page.getByTestId("in-flight")).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId("time-series-chart")).toBeVisible();
  // The fleet has been running since the suite started: sagas ended, events were ingested.
  await expect(page.getByTestId("durations")).not.toContainText("— / —", { timeout: 30_000 });
  await expect(page.getByTestId("open-breakers")).toContainText(/of [1-9]/);
  // How far back the data goes: the oldest month kept (last month's partition is made ahead).
  const lastMonth = new Date();
  lastMonth.setUTCDate(1);
  lastMonth.setUTCMonth(lastMonth.getUTCMonth() - 1);
  await expect(page.getByTestId("data-since")).toHaveText(
    `Saga events go back to ${lastMonth.toISOString().slice(0, 7)}; all kept (no retention set).`,
  );

  await page.getByTestId("stuck").click();
  await expect(page).toHaveURL(/\/sagas\?stuck=1$/);
  await expect(page.getByRole("checkbox", { name: /stuck only/ })).toBeChecked();

  await page.goto("/overview");
  await page.getByTestId("failed").click();
  await expect(page).toHaveURL(/\/sagas\?status=failed$/);
  await expect(page.getByLabel("Filter by status")).toHaveValue("failed");
});
