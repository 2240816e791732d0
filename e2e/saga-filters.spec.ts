// The saga list's filters narrow it, live in the URL and survive a reload (a shareable link).
import { expect, test } from "@playwright/test";

test("filters narrow the saga list and survive a reload through the URL", async ({ page }) => {
  await page.goto("/sagas");
  const rows = page.locator("[data-saga-id]");
  await expect(rows.first()).toBeVisible({ timeout: 30_000 });

  await page.getByLabel("Filter by mode").selectOption("orchestrated");
  await expect(page).toHaveURL(/[?&]mode=orchestrated/);
  await page.getByLabel("Filter by status").selectOption("completed");
  await expect(page).toHaveURL(/[?&]status=completed/);
  await expect(rows.first()).toBeVisible({ timeout: 30_000 });
  const check = async () => {
    for (const row of await rows.all()) {
      await expect(row).toHaveAttribute("data-mode", "orchestrated");
      await expect(row).toHaveAttribute("data-status", "completed");
    }
  };
  await check();

  await page.reload();
  await expect(page.getByLabel("Filter by mode")).toHaveValue("orchestrated");
  await expect(page.getByLabel("Filter by status")).toHaveValue("completed");
  await expect(rows.first()).toBeVisible({ timeout: 30_000 });
  await check();

  // An exact saga id finds that one saga.
  const sagaId = (await rows.first().getAttribute("data-saga-id")) as string;
  await page.getByLabel("Search by saga id, trace id or business key").fill(sagaId);
  await page.getByLabel("Search by saga id, trace id or business key").press("Enter");
  await expect(page).toHaveURL(new RegExp(`[?&]q=${encodeURIComponent(sagaId)}`));
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute("data-saga-id", sagaId);
});

test("the filtered list exports as CSV, with the same filters", async ({ page }) => {
  await page.goto("/sagas?mode=orchestrated");
  await expect(page.locator("[data-saga-id]").first()).toBeVisible({ timeout: 30_000 });
  const href = await page.getByTestId("export-csv").getAttribute("href");
  expect(href).toBe("/api/sagas/export?mode=orchestrated");
  const response = await page.request.get(href as string);
  expect(response.headers()["content-type"]).toContain("text/csv");
  const lines = (await response.text()).trim().split("\r\n");
  expect(lines[0]).toBe(
    "saga_id,saga_type,mode,status,business_key,trace_id,current_step,failed_step,failure_reason,started_at,ended_at,duration_ms,stuck,event_count",
  );
  expect(lines.length).toBeGreaterThan(1);
  for (const line of lines.slice(1)) expect(line.split(",")[2]).toBe("orchestrated");
  const refused = await page.request.get("/api/sagas/export?status=exploded");
  expect(refused.status()).toBe(400);
  expect(await refused.text()).toMatch(/invalid filter: status/);
});
