// Saga actions from the saga's page, against the real fleet: the transfer orchestrator is
// crashed with transfers in flight, one of them is reported stuck, the operator compensates
// it from its page (seeing which steps will be reverted), the command waits for the
// orchestrator; the dashboard process the operator used is SIGKILLed while the action is
// pending, the orchestrator answers once it is back, and the restarted dashboard shows the
// action done; the banks' balances return to their opening sum once nothing is in flight.
// The fleet fixture restarts the orchestrator with the fleet's own settings and stops the
// spec's own dashboard afterwards, whatever happened here.
import { ACCOUNTS_PER_BANK, OPENING_BALANCE } from "../server/fleet/transfer/transfer-world.ts";
import {
  E2E_FLEET,
  PIPELINE_ALLOWANCE_MS,
  PROCESS_START_ALLOWANCE_MS,
  STUCK_WITHIN_MS,
} from "./fixtures/e2e-env.ts";
import { expect, test } from "./fixtures/fleet.ts";

/** Bank B's slowed credits: long enough to crash the orchestrator in the middle of one. */
const CREDIT_LATENCY_MS = 1500;
/** A restarted orchestrator handles waiting commands once it is up and the dead one's lease has run out. */
const RESTARTED_ANSWERS_WITHIN_MS =
  PROCESS_START_ALLOWANCE_MS + E2E_FLEET.orchestratorLeaseMs + PIPELINE_ALLOWANCE_MS;

test("a stuck transfer is compensated from its page and the balances return to their opening sum", async ({
  page,
  fleet,
}) => {
  test.setTimeout(
    STUCK_WITHIN_MS + 2 * RESTARTED_ANSWERS_WITHIN_MS + 3 * PROCESS_START_ALLOWANCE_MS + 60_000,
  );
  const { store, fleetDb } = fleet;
  // A dashboard of the spec's own, so that killing it leaves the shared one to the other specs.
  const web = await fleet.startOwnWeb();
  // Slow credits keep transfers in flight, so that the crash leaves some unfinished.
  await fleet.setFaults("bank-b", { latencyMs: CREDIT_LATENCY_MS });
  // The crash comes while the store already knows a transfer's credit has started: from
  // then on the stuck report follows from the settings alone (the attempt's timeout, the
  // grace, the sweep, and the pipeline for what was already sent), not from what the
  // orchestrator's outbox had managed to publish before it died.
  const inCredit = async () => {
    const forward = await fleetDb.query<{ saga_id: string }>(
      "SELECT saga_id FROM transfer_orchestrator.saga_instance WHERE phase = 'forward'",
    );
    const { rows } = await store.query<{ saga_id: string }>(
      "SELECT saga_id FROM saga_summary WHERE saga_id = ANY($1) AND status = 'running' AND current_step = 'credit'",
      [forward.rows.map((r) => r.saga_id)],
    );
    return rows.map((r) => r.saga_id);
  };
  let candidates: string[] = [];
  await expect
    .poll(
      async () => {
        candidates = await inCredit();
        return candidates.length;
      },
      { timeout: PIPELINE_ALLOWANCE_MS + 20_000 },
    )
    .toBeGreaterThan(0);
  fleet.crashTransfers();
  await fleet.setFaults("bank-b", { latencyMs: 0 });
  // One the crash left unfinished, as the orchestrator's own store has it.
  const { rows: unfinished } = await fleetDb.query<{ saga_id: string }>(
    "SELECT saga_id FROM transfer_orchestrator.saga_instance WHERE saga_id = ANY($1) AND phase = 'forward'",
    [candidates],
  );
  expect(unfinished.length).toBeGreaterThan(0);
  const sagaId = unfinished[0]?.saga_id as string;

  await expect
    .poll(
      async () =>
        (await store.query("SELECT stuck FROM saga_summary WHERE saga_id = $1", [sagaId])).rows[0]?.stuck,
      { timeout: STUCK_WITHIN_MS },
    )
    .toBe(true);

  await page.goto(`${web.url}/sagas/${encodeURIComponent(sagaId)}`);
  await expect(page.getByTestId("stuck-reason")).toBeVisible();
  await page.getByRole("button", { name: "Compensate now" }).click();
  const dialog = page.getByRole("dialog", { name: "Compensate now" });
  await expect(dialog.getByTestId("compensation-plan")).toContainText("debit by bank-a");
  await dialog.getByRole("button", { name: "Compensate" }).click();
  await expect(page.getByTestId("action-result")).toHaveAttribute("data-phase", "pending");

  // The dashboard dies while the action is pending: nothing of it may live only in its memory.
  await web.crash();
  // The orchestrator comes back (as a restart would bring it), starting no new transfers,
  // and answers while no dashboard runs.
  fleet.startTransfers({ FLEET_TRANSFER_LIMIT: "1" });
  await expect
    .poll(
      async () =>
        (await store.query("SELECT status FROM saga_summary WHERE saga_id = $1", [sagaId])).rows[0]?.status,
      { timeout: RESTARTED_ANSWERS_WITHIN_MS },
    )
    .toBe("compensated");
  await web.restart();
  await page.goto(`${web.url}/sagas/${encodeURIComponent(sagaId)}`);
  await expect(page.locator("h1 [data-status]")).toHaveText("compensated", {
    timeout: RESTARTED_ANSWERS_WITHIN_MS,
  });
  await page.goto(`${web.url}/audit?action=saga.compensate&target=${encodeURIComponent(sagaId)}`);
  const done = page.locator('tr[data-action="saga.compensate"] li[data-phase="done"]');
  await expect(done).toBeVisible({ timeout: RESTARTED_ANSWERS_WITHIN_MS });
  await expect(done).toHaveAttribute("title", /compensating/);

  // Every saga the crash left behind ends (the restarted orchestrator takes them over).
  await expect
    .poll(
      async () =>
        (
          await fleetDb.query(
            "SELECT count(*)::int AS n FROM transfer_orchestrator.saga_instance WHERE phase IN ('forward', 'compensating')",
          )
        ).rows[0].n,
      { timeout: RESTARTED_ANSWERS_WITHIN_MS },
    )
    .toBe(0);
  const total = await fleetDb.query(
    "SELECT (SELECT sum(balance) FROM bank_a.accounts) + (SELECT sum(balance) FROM bank_b.accounts) AS total",
  );
  expect(Number(total.rows[0].total)).toBe(2 * ACCOUNTS_PER_BANK * OPENING_BALANCE);
  const audit = await store.query(
    "SELECT phase FROM audit_entry WHERE target = $1 AND action = 'saga.compensate' ORDER BY id",
    [sagaId],
  );
  expect(audit.rows.map((r) => r.phase)).toEqual(["requested", "pending", "done"]);
});

test("a bulk action previews the sagas it would touch and those it skips, with the reason", async ({
  page,
}) => {
  await page.goto("/sagas?type=interbank-transfer&status=completed");
  await expect(page.locator("[data-saga-id]").first()).toBeVisible({ timeout: 30_000 });
  // One completed saga (found by its id): every matching saga judged, none would get the command.
  const sagaId = await page.locator("tr[data-saga-id]").first().getAttribute("data-saga-id");
  await page.goto(`/sagas?type=interbank-transfer&status=completed&q=${sagaId}`);
  await expect(page.locator("tr[data-saga-id]")).toHaveCount(1);
  await page.getByLabel("Act on every saga of this list").selectOption("compensate");
  const preview = page.getByTestId("bulk-preview");
  await expect(preview).toHaveAttribute("data-matching", "1");
  await expect(preview).toHaveAttribute("data-eligible", "0");
  await expect(preview).toContainText("skipped: the saga completed; a completed saga is not compensated");
  await expect(page.getByRole("button", { name: "Nothing to do" })).toBeDisabled();
  await page.getByRole("button", { name: "Cancel" }).click();
});
