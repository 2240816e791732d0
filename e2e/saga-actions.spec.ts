// Saga actions from the saga's page, against the real fleet: the transfer orchestrator is
// crashed with transfers in flight, one of them is reported stuck, the operator compensates
// it from its page (seeing which steps will be reverted), the command waits for the
// orchestrator, which answers once it is back; and the banks' balances return to their
// opening sum once nothing is in flight.
import { expect, test } from "@playwright/test";
import { Redis } from "ioredis";
import pg from "pg";
import { setFaults } from "../server/fleet/fault-control.ts";
import { ACCOUNTS_PER_BANK, OPENING_BALANCE } from "../server/fleet/transfer/transfer-world.ts";
import { e2eRun } from "./fixtures/e2e-env.ts";
import { killTransfers, startTransfers } from "./fixtures/fleet-control.ts";

test("a stuck transfer is compensated from its page and the balances return to their opening sum", async ({
  page,
}) => {
  test.setTimeout(180_000);
  const { databaseUrl, redisUrl, topicPrefix } = e2eRun();
  const fleetUrl = JSON.parse(process.env.E2E_FLEET_ENV ?? "{}").FLEET_DATABASE_URL as string;
  const store = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const fleet = new pg.Pool({ connectionString: fleetUrl, max: 2 });
  const redis = new Redis(redisUrl);
  try {
    // Slow credits keep transfers in flight, so that the crash leaves some unfinished.
    await setFaults(redis, topicPrefix, "bank-b", { latencyMs: 1500 });
    await expect
      .poll(
        async () =>
          (
            await fleet.query(
              "SELECT count(*)::int AS n FROM transfer_orchestrator.saga_instance WHERE phase = 'forward'",
            )
          ).rows[0].n,
        { timeout: 30_000 },
      )
      .toBeGreaterThan(0);
    killTransfers();
    await setFaults(redis, topicPrefix, "bank-b", { latencyMs: 0 });
    // What the crash left unfinished, as the orchestrator's own store has it.
    const unfinished = (
      await fleet.query<{ saga_id: string }>(
        "SELECT saga_id FROM transfer_orchestrator.saga_instance WHERE phase = 'forward'",
      )
    ).rows.map((r) => r.saga_id);
    expect(unfinished.length).toBeGreaterThan(0);

    let sagaId: string | undefined;
    await expect
      .poll(
        async () => {
          const { rows } = await store.query<{ saga_id: string }>(
            "SELECT saga_id FROM saga_summary WHERE stuck AND saga_id = ANY($1) LIMIT 1",
            [unfinished],
          );
          sagaId = rows[0]?.saga_id;
          return sagaId;
        },
        { timeout: 30_000 },
      )
      .toBeTruthy();

    await page.goto(`/sagas/${encodeURIComponent(sagaId as string)}`);
    await expect(page.getByTestId("stuck-reason")).toBeVisible();
    await page.getByRole("button", { name: "Compensate now" }).click();
    const dialog = page.getByRole("dialog", { name: "Compensate now" });
    await expect(dialog.getByTestId("compensation-plan")).toContainText("debit by bank-a");
    await dialog.getByRole("button", { name: "Compensate" }).click();
    await expect(page.getByTestId("action-result")).toHaveAttribute("data-phase", "pending");

    // The orchestrator comes back (as a restart would bring it), starting no new transfers.
    startTransfers({ FLEET_TRANSFER_LIMIT: "1" });
    await expect(page.getByTestId("action-result")).toHaveAttribute("data-phase", "done", {
      timeout: 60_000,
    });
    await expect(page.getByTestId("action-result")).toContainText("compensating");
    await expect(page.locator("h1 [data-status]")).toHaveText("compensated", { timeout: 60_000 });

    await expect
      .poll(
        async () =>
          (
            await fleet.query(
              "SELECT count(*)::int AS n FROM transfer_orchestrator.saga_instance WHERE phase IN ('forward', 'compensating')",
            )
          ).rows[0].n,
        { timeout: 60_000 },
      )
      .toBe(0);
    const total = await fleet.query(
      "SELECT (SELECT sum(balance) FROM bank_a.accounts) + (SELECT sum(balance) FROM bank_b.accounts) AS total",
    );
    expect(Number(total.rows[0].total)).toBe(2 * ACCOUNTS_PER_BANK * OPENING_BALANCE);
    const audit = await store.query(
      "SELECT phase FROM audit_entry WHERE target = $1 AND action = 'saga.compensate' ORDER BY id",
      [sagaId],
    );
    expect(audit.rows.map((r) => r.phase)).toEqual(["requested", "pending", "done"]);
  } finally {
    await setFaults(redis, topicPrefix, "bank-b", { latencyMs: 0 });
    // The rest of the suite watches a fleet that keeps starting transfers.
    killTransfers();
    startTransfers();
    redis.disconnect();
    await store.end();
    await fleet.end();
  }
});

test("a bulk action previews the sagas it would touch and those it skips, with the reason", async ({
  page,
}) => {
  await page.goto("/sagas?type=interbank-transfer&status=completed");
  await expect(page.locator("[data-saga-id]").first()).toBeVisible({ timeout: 30_000 });
  await page.getByLabel("Act on every saga of this list").selectOption("compensate");
  const preview = page.getByTestId("bulk-preview");
  await expect(preview).toHaveAttribute("data-eligible", "0");
  await expect(preview).toContainText("skipped: the saga completed; a completed saga is not compensated");
  await expect(page.getByRole("button", { name: "Nothing to do" })).toBeDisabled();
  await page.getByRole("button", { name: "Cancel" }).click();
});
