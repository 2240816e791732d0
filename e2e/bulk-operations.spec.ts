// A bulk operation as an operator runs one: sagas of a type of the test's own (published by
// hand, as an outside producer would) are compensated from the saga list's toolbar; the
// preview counts them, the operation runs in the background at the suite's rate (5 a second),
// its page shows the progress, suspend stops it (the counts hold still), resume finishes it;
// every saga's command is on the audit log. Any operation left running is cancelled after,
// on failure too.
import { randomUUID } from "node:crypto";
import { expect, test } from "./fixtures/fleet.ts";
import { startSagasByHand } from "./fixtures/publish-by-hand.ts";

const sagaType = `bulk-e2e-${randomUUID().slice(0, 8)}`;
const SAGAS = 30;

test("a bulk compensation runs in the background, is suspended and resumed from its page, and ends with every saga sent", async ({
  page,
  fleet,
}) => {
  test.setTimeout(120_000);
  let operationId: string | undefined;
  try {
    await startSagasByHand(sagaType, SAGAS);
    await expect
      .poll(
        async () =>
          (
            await fleet.store.query("SELECT count(*)::int AS n FROM saga_summary WHERE saga_type = $1", [
              sagaType,
            ])
          ).rows[0].n,
        { timeout: 20_000 },
      )
      .toBe(SAGAS);
    await page.goto(`/sagas?type=${sagaType}`);
    await expect(page.locator("tr[data-saga-id]").first()).toBeVisible();

    await page.getByLabel("Act on every saga of this list").selectOption("compensate");
    const preview = page.getByTestId("bulk-preview");
    await expect(preview).toHaveAttribute("data-matching", String(SAGAS));
    await expect(preview).toHaveAttribute("data-eligible", String(SAGAS));
    await expect(preview).toContainText("at 5 a second at most");
    await page.getByRole("button", { name: `Compensate ${SAGAS} sagas` }).click();
    await expect(page.getByTestId("action-result")).toHaveAttribute("data-phase", "done");
    await page.getByTestId("operation-link").click();
    await expect(page).toHaveURL(/\/operations\?id=/);
    operationId = new URL(page.url()).searchParams.get("id") ?? undefined;

    const row = page.locator(`tr[data-operation-id="${operationId}"]`);
    const counts = row.getByTestId("operation-counts");
    await expect(row).toHaveAttribute("data-state", "running");
    await expect(counts).toContainText(/[1-9]\d* sent/, { timeout: 15_000 });

    await row.getByRole("button", { name: "Suspend" }).click();
    await expect(row).toHaveAttribute("data-state", "suspended");
    await expect(row.getByTestId("operation-state")).toHaveText("suspended");
    await expect(row).toContainText("suspended by demo-operator");
    // Held still: what it shows after the saga in hand was recorded does not move.
    await page.waitForTimeout(1500);
    const held = await counts.textContent();
    expect(held).toMatch(/[1-9]\d* pending of 30/);
    await page.waitForTimeout(2500);
    await expect(counts).toHaveText(held ?? "");

    await row.getByRole("button", { name: "Resume" }).click();
    await expect(row).toHaveAttribute("data-state", "done", { timeout: 30_000 });
    await expect(counts).toHaveText(`${SAGAS} sent · 0 skipped · 0 failed · 0 pending of ${SAGAS}`);
    await expect(page.getByTestId("operation-detail")).toContainText(`${sagaType}-`);

    const audit = await fleet.store.query<{ action: string; n: number }>(
      `SELECT action, count(*)::int AS n FROM audit_entry
       WHERE (action = 'saga.compensate' AND params->>'bulk' = $1 AND phase = 'pending')
          OR (target = $2 AND phase = 'done')
       GROUP BY action ORDER BY action`,
      [operationId, `operation ${operationId}`],
    );
    expect(audit.rows).toEqual([
      { action: "operation.resume", n: 1 },
      { action: "operation.suspend", n: 1 },
      { action: "saga.bulk-compensate", n: 1 },
      { action: "saga.compensate", n: SAGAS },
    ]);
  } finally {
    if (operationId)
      await fleet.store.query(
        "UPDATE bulk_operation SET state = 'cancelled', ended_at = now() WHERE id = $1 AND state IN ('running', 'suspended')",
        [operationId],
      );
  }
});
