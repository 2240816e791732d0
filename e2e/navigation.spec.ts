// Every page's controls: keyboard shortcuts to move between views and to the search box,
// light and dark themes kept across a reload, and the wall-screen layout.
import { expect, type Page, test } from "@playwright/test";

/** Until the page is interactive its key presses are lost (a loaded machine hydrates late). */
const shortcutsListen = (page: Page) =>
  expect(page.locator("html")).toHaveAttribute("data-shortcuts", "ready");

test("keyboard shortcuts move between views and focus the search", async ({ page }) => {
  await page.goto("/overview");
  await shortcutsListen(page);
  await page.keyboard.press("g");
  await page.keyboard.press("s");
  await expect(page).toHaveURL(/\/sagas$/);
  await expect(page.getByLabel("Search by saga id, trace id or business key")).toBeVisible();
  await page.keyboard.press("/");
  await expect(page.getByLabel("Search by saga id, trace id or business key")).toBeFocused();
  // Typing in a field is typing, not a shortcut.
  await page.keyboard.type("gk");
  await expect(page).toHaveURL(/\/sagas$/);
  await page.keyboard.press("Escape");
  await page.locator("h1").click();
  await page.keyboard.press("?");
  await expect(page.getByRole("dialog", { name: "Keyboard shortcuts" })).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(page.getByRole("dialog", { name: "Keyboard shortcuts" })).toHaveCount(0);
  await page.keyboard.press("g");
  await page.keyboard.press("k");
  await expect(page).toHaveURL(/\/kafka$/);
});

test("the theme switches between light and dark and is kept across a reload; the wall layout too", async ({
  page,
}) => {
  await page.goto("/overview");
  await shortcutsListen(page);
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const toggle = page.getByTestId("theme-toggle");
  await toggle.click();
  await expect(toggle).toHaveText("Theme: light");
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  const light = await background();
  await toggle.click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  const dark = await background();
  expect(dark).not.toBe(light);
  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  expect(await background()).toBe(dark);
  await shortcutsListen(page);

  await page.keyboard.press("w");
  await expect(page.locator("html")).toHaveAttribute("data-wall", "1");
  await expect(page.locator(".topbar nav")).toBeHidden();
  await page.keyboard.press("w");
  await expect(page.locator("html")).not.toHaveAttribute("data-wall", "1");
  await page.goto("/overview?wall=1");
  await expect(page.locator("html")).toHaveAttribute("data-wall", "1");
});
