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
