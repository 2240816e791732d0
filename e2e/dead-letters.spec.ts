// Dead letters an operator acts on, in Chromium against the running ingester: malformed
// messages from an outside producer are counted by reason on the overview and the page, found
// by their reason, discarded all at once after a preview (with a reason, audited), and one is
// replayed to its topic, where the ingester, still refusing it, quarantines it anew at its
// new position. An admin replays one with an edit; operators cannot edit.
import { randomBytes, randomUUID } from "node:crypto";
import { PIPELINE_ALLOWANCE_MS } from "./fixtures/e2e-env.ts";
import { expect, test } from "./fixtures/fleet.ts";
import { signInAs } from "./fixtures/operators.ts";
import { publishByHand } from "./fixtures/publish-by-hand.ts";

test("malformed messages are found by reason, discarded in bulk after a preview, and one replayed to its topic", async ({
  page,
}) => {
  const marker = `nojson${randomUUID().slice(0, 8)}`;
  // The JSON parser quotes the start of the value in its error, so the reason names the marker.
  await publishByHand(
    randomBytes(16).toString("hex"),
    [0, 1, 2, 3].map((i) => ({ type: "saga.started", key: `broken-${i}`, value: `${marker}-${i}` })),
  );

  await page.goto("/overview");
  await expect(page.getByTestId("open-dead-letters")).not.toContainText(/^0/, {
    timeout: PIPELINE_ALLOWANCE_MS,
  });
  await expect(page.getByTestId("overview-dead-letter-reasons")).toContainText("value is not JSON");

  await page.goto(`/dead-letters?state=open&reason=${marker}`);
  const rows = page.locator("[data-dead-letter-id]");
  await expect(rows).toHaveCount(4, { timeout: PIPELINE_ALLOWANCE_MS });

  // One is replayed: the ingester still refuses it, and quarantines it again where it landed.
  const first = rows.filter({ hasText: `${marker}-0` });
  await first.locator("summary").first().click();
  await first.getByTestId("letter-actions").getByRole("button", { name: "Replay" }).click();
  const answered = page.waitForResponse((r) => r.url().includes("actions.deadLetter"));
  await page.getByRole("dialog").getByRole("button", { name: "Replay" }).click();
  expect((await answered).ok()).toBe(true);
  await page.goto(`/dead-letters?state=resolved&reason=${marker}`);
  await expect(rows).toHaveCount(1);
  await expect(rows.getByTestId("resolution")).toContainText("replayed by demo-operator");
  await expect(rows.getByTestId("resolution")).toContainText(/replayed to \S+\/\d+\/\d+/);
  await page.goto(`/dead-letters?state=open&reason=${marker}`);
  // Three never touched, and the replayed one back under a new position.
  await expect(rows).toHaveCount(4, { timeout: PIPELINE_ALLOWANCE_MS });

  // The four are discarded at once, after seeing how many and which.
  await page
    .getByTestId("bulk-letter-actions")
    .getByRole("button", { name: "Discard all open matching" })
    .click();
  const dialog = page.getByRole("dialog");
  await expect(dialog.getByTestId("bulk-letter-preview")).toHaveAttribute("data-count", "4");
  await dialog.getByLabel("Reason (required)").fill("e2e: a producer test, nothing to recover");
  await dialog.getByRole("button", { name: "Discard them" }).click();
  await expect(page.getByTestId("bulk-letter-actions").getByTestId("action-result")).toContainText(
    "4 dead letter(s) discarded by demo-operator",
  );
  await expect(rows).toHaveCount(0);
  await page.getByLabel("Show").selectOption("resolved");
  await expect(rows).toHaveCount(5);
  await expect(page.locator('[data-resolution="discarded"]')).toHaveCount(4);
  await expect(page).toHaveURL(/state=resolved/);
});

test("an admin fixes a producer's typo by hand: a bad edit is refused with its reason, the good one is replayed and its saga appears, original and edit kept", async ({
  browser,
  page,
}) => {
  const sagaId = `typo-${randomUUID().slice(0, 8)}`;
  const started = {
    sagaId,
    sagaType: "outside-ledger",
    mode: "orchestrate", // the producer's bug
    steps: [{ name: "post", service: "ledger" }],
  };
  await publishByHand(randomBytes(16).toString("hex"), [
    { type: "saga.started", key: sagaId, value: JSON.stringify(started) },
  ]);

  // An operator replays or discards, but does not edit.
  const operatorPage = await browser.newPage();
  await signInAs(operatorPage, "operator");
  await operatorPage.goto(`/dead-letters?state=open&reason=${encodeURIComponent("data does not match")}`);
  const seenByOperator = operatorPage.locator("[data-dead-letter-id]").filter({ hasText: sagaId });
  await expect(seenByOperator.getByTestId("letter-actions")).toBeVisible({ timeout: PIPELINE_ALLOWANCE_MS });
  await expect(seenByOperator.getByRole("button", { name: "Edit and replay" })).toHaveCount(0);
  await operatorPage.close();

  await signInAs(page, "admin");
  await page.goto(`/dead-letters?state=open&reason=${encodeURIComponent("data does not match")}`);
  const letter = page.locator("[data-dead-letter-id]").filter({ hasText: sagaId });
  await letter.getByRole("button", { name: "Edit and replay" }).click();
  const editor = letter.getByTestId("edit-letter");
  const value = editor.getByLabel("Value");
  await expect(value).toHaveValue(/"mode": "orchestrate"/);
  await editor.getByLabel("What the edit fixes").fill("mode typo in ledger-orchestrator 1.4.2");
  // Still wrong: refused by the server with the ingester's own reason; nothing is sent.
  await value.fill((await value.inputValue()).replace('"orchestrate"', '"orchestrating"'));
  await editor.getByRole("button", { name: "Replay the edit" }).click();
  await expect(editor.getByTestId("action-result")).toContainText(
    "the edit still breaks the contract: data does not match",
  );
  await value.fill((await value.inputValue()).replace('"orchestrating"', '"orchestrated"'));
  const answered = page.waitForResponse((r) => r.url().includes("actions.deadLetterEdit"));
  await editor.getByRole("button", { name: "Replay the edit" }).click();
  expect((await answered).ok()).toBe(true);
  // Resolved, it leaves the open list; the resolved one shows what was done.
  await expect(letter).toHaveCount(0);
  await page.getByLabel("Show").selectOption("resolved");
  await expect(letter.getByTestId("resolution")).toContainText("replayed with an edit by");
  await expect(letter.getByTestId("resolution")).toContainText("mode typo in ledger-orchestrator 1.4.2");
  await expect(letter.getByTestId("letter-original")).toContainText('"mode": "orchestrate"');
  await expect(letter.getByTestId("letter-edited")).toContainText('"mode": "orchestrated"');

  await page.goto(`/sagas/${sagaId}`);
  await expect(page.getByText("outside-ledger").first()).toBeVisible({ timeout: PIPELINE_ALLOWANCE_MS });
  await page.goto(`/audit?action=dead-letter.edit-replay`);
  await expect(page.getByText("dead-letter.edit-replay").first()).toBeVisible();
});
