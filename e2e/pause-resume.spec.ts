// Pause and resume from a saga's page, against the real fleet, for both kinds of saga:
// - an interbank transfer (orchestrated) is paused while it compensates (bank A answers
//   nothing in time, so its debit times out and its reversal keeps being retried): the attempt
//   under way ends, no other starts, the saga is shown paused (not stuck) and its timeline has
//   the pause; resumed (bank A well again), its compensation lands;
// - a checkout (choreographed) is paused once paid, while inventory is slowed: the participant
//   it reaches next holds its message instead of acting on it, nothing is shipped, the saga is
//   shown paused (not stuck); resumed, the held message is handled and the saga ends.
// Both commands of each are on the audit log. The fleet fixture clears the faults afterwards,
// on failure too (the transfers left compensating then finish); the checkout participants
// (not part of the shared fleet) are the spec's own and stopped by it.
import type { Page } from "@playwright/test";
import type pg from "pg";
import { DEFAULT_FAULT_REREAD_MS } from "../server/fault-switches/fault-control.ts";
import { checkoutSchema } from "../server/fleet/checkout/checkout-participant.ts";
import { CHECKOUT_SERVICES } from "../server/fleet/checkout/checkout-saga.ts";
import { PIPELINE_ALLOWANCE_MS, PROCESS_START_ALLOWANCE_MS } from "./fixtures/e2e-env.ts";
import { expect, test } from "./fixtures/fleet.ts";
import { startCheckouts } from "./fixtures/fleet-control.ts";

/** How long the slowed service takes: long enough to open the page and pause while it works. */
const SLOW_CALL_MS = 12_000;
/** Longer than any step's deadline: the call is never answered in time. */
const UNANSWERED_MS = 60_000;
const SETTLES_WITHIN_MS = SLOW_CALL_MS + PIPELINE_ALLOWANCE_MS + 10_000;
/** Each checkout participant's schema of the fleet's database. */
const CHECKOUT_SCHEMAS = CHECKOUT_SERVICES.map(checkoutSchema);

/** How long a fault change takes to reach a service at most: pub/sub, or failing that its re-read. */
const FAULT_REACHES_WITHIN_MS = DEFAULT_FAULT_REREAD_MS + 1000;

/**
 * The newest running saga of `type` whose last finished step is `step`, started once the
 * fault set at `faultSetAt` is sure to slow its next step. A saga started before could be
 * past that step already, its summary not yet caught up.
 */
async function sagaAfterStep(store: pg.Pool, type: string, step: string, faultSetAt: Date): Promise<string> {
  return newest(
    store,
    `SELECT saga_id FROM saga_summary WHERE saga_type = $1 AND status = 'running' AND current_step = $2
       AND started_at > $3::timestamptz + make_interval(secs => $4) ORDER BY started_at DESC LIMIT 1`,
    [type, step, faultSetAt.toISOString(), FAULT_REACHES_WITHIN_MS / 1000],
  );
}

async function newest(store: pg.Pool, sql: string, args: unknown[]): Promise<string> {
  let sagaId: string | undefined;
  await expect
    .poll(
      async () => {
        sagaId = (await store.query<{ saga_id: string }>(sql, args)).rows[0]?.saga_id;
        return sagaId;
      },
      { timeout: PROCESS_START_ALLOWANCE_MS + SETTLES_WITHIN_MS },
    )
    .toBeDefined();
  return sagaId as string;
}

async function act(page: Page, action: "Pause" | "Resume") {
  await page.getByTestId("saga-actions").getByRole("button", { name: action }).click();
  const dialog = page.getByRole("dialog", { name: action });
  await dialog.getByRole("button", { name: action }).click();
  const result = page.getByTestId("action-result");
  await expect(result).toHaveAttribute("data-phase", "done", { timeout: PIPELINE_ALLOWANCE_MS + 10_000 });
  return (await result.textContent()) ?? "";
}

const startedCount = async (store: pg.Pool, sagaId: string, type: string, step?: string) =>
  (
    await store.query(
      "SELECT count(*)::int AS n FROM saga_event WHERE saga_id = $1 AND type = $2 AND ($3::text IS NULL OR step = $3)",
      [sagaId, type, step ?? null],
    )
  ).rows[0].n as number;

async function expectAudited(page: Page, sagaId: string) {
  for (const action of ["saga.pause", "saga.resume"]) {
    await page.goto(`/audit?action=${action}&target=${encodeURIComponent(sagaId)}`);
    await expect(page.locator(`tr[data-action="${action}"] li[data-phase="done"]`)).toBeVisible();
  }
}

test("an orchestrated transfer is paused while it compensates, and resumed to the end", async ({
  page,
  fleet,
}) => {
  test.setTimeout(4 * SETTLES_WITHIN_MS);
  const { store, fleetDb } = fleet;
  // Bank A answers nothing within the step's deadline: a transfer's debit times out three
  // times and its compensation (a reversal at bank A) keeps timing out and being retried.
  await fleet.setFaults("bank-a", { latencyMs: UNANSWERED_MS });
  const sagaId = await newest(
    store,
    `SELECT saga_id FROM saga_summary WHERE saga_type = 'interbank-transfer' AND status = 'compensating'
       AND started_at > now() - interval '1 minute' ORDER BY started_at DESC LIMIT 1`,
    [],
  );

  await page.goto(`/sagas/${encodeURIComponent(sagaId)}`);
  await expect(page.locator("h1 [data-status]")).toHaveText("compensating");
  expect(await act(page, "Pause")).toMatch(/paused by demo-operator; the compensation of debit/);
  await fleet.setFaults("bank-a", { latencyMs: 0 });
  await expect(page.getByTestId("paused-by")).toContainText("by demo-operator since");
  await expect(page.locator('[data-testid="saga-timeline"] [data-kind="pause"]')).toHaveAttribute(
    "data-open",
    "true",
  );

  // The attempt under way ends; the orchestrator stops there and hands the saga back as paused.
  const phase = async () =>
    (
      await fleetDb.query("SELECT phase FROM transfer_orchestrator.saga_instance WHERE saga_id = $1", [
        sagaId,
      ])
    ).rows[0]?.phase;
  await expect.poll(phase, { timeout: SETTLES_WITHIN_MS }).toBe("paused");
  // Nothing starts while paused, and a paused saga is not stuck, however long it waits.
  const attempts = async () => startedCount(store, sagaId, "io.sagascope.saga.compensation.started");
  await page.waitForTimeout(PIPELINE_ALLOWANCE_MS);
  const whilePaused = await attempts();
  await page.waitForTimeout(3000);
  expect(await attempts()).toBe(whilePaused);
  const summary = await store.query(
    "SELECT stuck, waiting_on, paused_by FROM saga_summary WHERE saga_id = $1",
    [sagaId],
  );
  expect(summary.rows[0]).toEqual({ stuck: false, waiting_on: "paused", paused_by: "demo-operator" });
  await expect(page.getByRole("button", { name: "Retry the failed step" })).toBeDisabled();

  expect(await act(page, "Resume")).toMatch(/resumed by demo-operator; the compensation of debit starts now/);
  await expect(page.locator("h1 [data-status]")).toHaveText("compensated", { timeout: SETTLES_WITHIN_MS });
  await expect(page.getByTestId("paused-by")).toHaveCount(0);
  await expect(page.locator('[data-testid="saga-timeline"] [data-kind="pause"]')).toHaveAttribute(
    "data-open",
    "false",
  );
  expect(await attempts()).toBe(whilePaused + 1);
  await expectAudited(page, sagaId);
});

test("a choreographed checkout is paused while its stock is being reserved, held by its participants until resumed", async ({
  page,
  fleet,
}) => {
  test.setTimeout(PROCESS_START_ALLOWANCE_MS + 4 * SETTLES_WITHIN_MS);
  const { store, fleetDb } = fleet;
  const checkouts = startCheckouts(2);
  try {
    // Slow reservations: a paid checkout waits at inventory (its message under way or queued).
    const faultSetAt = new Date();
    await fleet.setFaults("inventory", { latencyMs: SLOW_CALL_MS });
    const sagaId = await sagaAfterStep(store, "marketplace-checkout", "charge-payment", faultSetAt);

    await page.goto(`/sagas/${encodeURIComponent(sagaId)}`);
    expect(await act(page, "Pause")).toMatch(/paused by demo-operator; each participant holds/);
    await fleet.setFaults("inventory", { latencyMs: 0 });
    await expect(page.getByTestId("paused-by")).toContainText("by demo-operator since");

    // The participant the saga reaches next holds its messages of the saga instead of acting
    // on them: inventory, or shipping if the reservation was under way, or payment (its refund)
    // if the order was one the demo sells out on purpose.
    const held = async () =>
      (
        await fleetDb.query(
          `SELECT count(*)::int AS n FROM (${CHECKOUT_SCHEMAS.map(
            (schema) => `SELECT saga_id FROM ${schema}.parked_message WHERE held AND redriven_at IS NULL`,
          ).join(" UNION ALL ")}) h
           WHERE saga_id = $1`,
          [sagaId],
        )
      ).rows[0].n;
    await expect.poll(held, { timeout: SETTLES_WITHIN_MS }).toBeGreaterThan(0);
    await page.waitForTimeout(2000);
    expect(await startedCount(store, sagaId, "io.sagascope.saga.step.started", "schedule-shipment")).toBe(0);
    await expect(page.locator("h1 [data-status]")).toHaveText("running");
    await expect(page.locator("h1 .badge-paused")).toBeVisible();
    const summary = await store.query("SELECT stuck, waiting_on FROM saga_summary WHERE saga_id = $1", [
      sagaId,
    ]);
    expect(summary.rows[0]).toEqual({ stuck: false, waiting_on: "paused" });

    expect(await act(page, "Resume")).toMatch(/resumed by demo-operator/);
    // Some checkouts are refused on purpose (the demo's failure rate): ended either way.
    await expect(page.locator("h1 [data-status]")).toHaveText(/completed|compensated/, {
      timeout: SETTLES_WITHIN_MS,
    });
    expect(await held()).toBe(0);
    await expectAudited(page, sagaId);
  } finally {
    await checkouts.stop();
  }
});
