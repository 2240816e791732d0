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

test("service, step and time range narrow the list, and a range that ends before it starts is said so", async ({
  page,
}) => {
  await page.goto("/sagas");
  const rows = page.locator("[data-saga-id]");
  await expect(rows.first()).toBeVisible({ timeout: 30_000 });
  await expect(page.getByLabel("Filter by service").locator("option", { hasText: "bank-b" })).toHaveCount(1);
  await page.getByLabel("Filter by service").selectOption("bank-b");
  await expect(page).toHaveURL(/[?&]service=bank-b/);
  await page.getByLabel("Filter by start time").selectOption("15m");
  await expect(page).toHaveURL(/[?&]since=15m/);
  await expect(rows.first()).toBeVisible({ timeout: 30_000 });
  for (const row of await rows.all()) await expect(row).toHaveAttribute("data-services", /(^|,)bank-b(,|$)/);

  await page.reload();
  await expect(page.getByLabel("Filter by service")).toHaveValue("bank-b");
  await expect(page.getByLabel("Filter by start time")).toHaveValue("15m");
  await expect(rows.first()).toBeVisible({ timeout: 30_000 });

  // The step filter: sagas at (or failed at) one step.
  await page.getByLabel("Filter by the step a saga is at or failed at").selectOption("credit");
  await expect(page).toHaveURL(/[?&]step=credit/);
  for (const row of await rows.all()) await expect(row).toHaveAttribute("data-at-step", "credit");

  // A custom range in the future holds nothing; one that ends before it starts is refused in words.
  const later = new Date(Date.now() + 86_400_000).toISOString();
  const earlier = new Date(Date.now() - 86_400_000).toISOString();
  await page.goto(`/sagas?from=${encodeURIComponent(later)}`);
  await expect(page.getByText("No saga matches these filters.")).toBeVisible({ timeout: 30_000 });
  await page.goto(`/sagas?from=${encodeURIComponent(later)}&to=${encodeURIComponent(earlier)}`);
  await expect(page.locator("p[role=alert]")).toContainText("The range must start before it ends");
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
