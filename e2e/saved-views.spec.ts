// Saved views as a team uses them: the demo operator filters the saga list to a saga type of
// the test's own, saves it shared, finds it in the top bar's menu with its count, lands on it
// when opening the dashboard; a viewer sees the team's view, saves a private one (no sharing
// offered) and cannot delete the team's. The views and the landing choice are removed after,
// on failure too, so that no other spec lands anywhere but the overview.
import { randomUUID } from "node:crypto";
import { expect, test } from "./fixtures/fleet.ts";
import { signInAs } from "./fixtures/operators.ts";
import { startSagasByHand } from "./fixtures/publish-by-hand.ts";

const sagaType = `views-e2e-${randomUUID().slice(0, 8)}`;
const SAGAS = 3;
const sharedName = `Our ${sagaType}`;
const privateName = `Mine ${sagaType}`;

test("a view saved and shared from the saga list is in the menu with its count, and a landing page", async ({
  page,
  browser,
  fleet,
}) => {
  test.setTimeout(90_000);
  const viewerPage = await browser.newPage();
  try {
    await startSagasByHand(sagaType, SAGAS);
    await page.goto(`/sagas?type=${sagaType}`);
    await expect(page.locator("tr[data-saga-id]")).toHaveCount(SAGAS, { timeout: 20_000 });

    // Save the filtered list as a view shared with the team.
    const save = page.getByTestId("save-view");
    await save.locator("summary").click();
    await save.getByLabel("Name").fill(sharedName);
    await save.getByLabel("share with the team").check();
    await save.getByRole("button", { name: "Save" }).click();
    await expect(save.getByTestId("action-result")).toHaveAttribute("data-phase", "done");
    await expect(save.getByTestId("action-result")).toContainText(`saved the view "${sharedName}", shared`);

    // The top bar's menu lists it with what it matches; it opens the filtered list.
    await page.goto("/overview");
    const menu = page.getByTestId("views-menu");
    await menu.locator("summary").click();
    const item = menu.locator(`li[data-view="${sharedName}"]`);
    await expect(item.getByTestId("view-count")).toHaveText(String(SAGAS));
    await item.getByRole("link", { name: sharedName }).click();
    await expect(page).toHaveURL(new RegExp(`/sagas\\?type=${sagaType}$`));
    await expect(page.locator("tr[data-saga-id]")).toHaveCount(SAGAS);

    // Chosen as the landing page on the views page, it is where "/" opens.
    await page.goto("/views");
    const row = page.locator(`tr[data-view="${sharedName}"]`);
    await row.getByRole("button", { name: "Land here" }).click();
    await expect(row).toHaveAttribute("data-landing", "true");
    await page.goto("/");
    await expect(page).toHaveURL(new RegExp(`/sagas\\?type=${sagaType}$`));

    // A viewer sees the team's view, may save only private ones, and not delete the team's.
    await signInAs(viewerPage, "viewer");
    await viewerPage.goto(`/sagas?type=${sagaType}&status=running`);
    const viewerSave = viewerPage.getByTestId("save-view");
    await viewerSave.locator("summary").click();
    await expect(viewerSave.getByLabel("share with the team")).toHaveCount(0);
    await viewerSave.getByLabel("Name").fill(privateName);
    await viewerSave.getByRole("button", { name: "Save" }).click();
    await expect(viewerSave.getByTestId("action-result")).toContainText(
      `saved the view "${privateName}", private`,
    );
    await viewerPage.goto("/views");
    const theirs = viewerPage.locator(`tr[data-view="${sharedName}"]`);
    await expect(theirs).toContainText("demo-operator");
    await expect(theirs.getByRole("button", { name: "Delete" })).toHaveCount(0);
    const mine = viewerPage.locator(`tr[data-view="${privateName}"]`);
    await expect(mine.getByTestId("view-count")).toHaveText(String(SAGAS));
    // Not the operator's: the viewer's own view is theirs alone.
    await page.goto("/views");
    await expect(page.locator(`tr[data-view="${sharedName}"]`)).toBeVisible();
    await expect(page.locator(`tr[data-view="${privateName}"]`)).toHaveCount(0);

    // The viewer deletes their own view.
    await mine.getByRole("button", { name: "Delete" }).click();
    await viewerPage.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await expect(mine).toHaveCount(0);
  } finally {
    await viewerPage.close();
    await fleet.store.query("DELETE FROM saved_view WHERE name = ANY($1::text[])", [
      [sharedName, privateName],
    ]);
  }
});
