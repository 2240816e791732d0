// Retry from a step of a choreographed saga, from its page, against the real fleet: a
// checkout's shipping service lost its message (its consumer group's offsets were moved past
// it while it was down, as a careless offset reset or a retention sweep would), so the saga
// waits on shipping and is reported stuck. Retried from reserve-stock, inventory handles the
// message that triggered its step again (without taking the stock twice), shipping gets the
// reservation anew and the saga completes. The checkout participants are the spec's own; the
// fleet fixture clears the faults afterwards, on failure too.
import { Kafka, logLevel } from "kafkajs";
import type pg from "pg";
import { stopChild } from "../scripts/processes.ts";
import { checkoutTopic } from "../server/fleet/checkout/checkout-saga.ts";
import { PIPELINE_ALLOWANCE_MS, PROCESS_START_ALLOWANCE_MS } from "./fixtures/e2e-env.ts";
import { expect, test } from "./fixtures/fleet.ts";
import { CHECKOUT_SERVICES, fleetSetting, startCheckout } from "./fixtures/fleet-control.ts";

/** Long enough to stop shipping while the reservation is under way. */
const SLOW_RESERVATION_MS = 8000;
/** The step's announced deadline (5 s), the grace (2 s) and the sweeper's round, with room. */
const STUCK_WITHIN_MS = 5000 + 2000 + PIPELINE_ALLOWANCE_MS + 10_000;
const SETTLES_WITHIN_MS = SLOW_RESERVATION_MS + PIPELINE_ALLOWANCE_MS + 10_000;

async function summaryOf(store: pg.Pool, sagaId: string) {
  const r = await store.query(
    "SELECT status, current_step, stuck, waiting_on FROM saga_summary WHERE saga_id = $1",
    [sagaId],
  );
  return r.rows[0] as
    | { status: string; current_step: string; stuck: boolean; waiting_on: string }
    | undefined;
}

/** Moves the consumer group of a stopped participant past every message now on the topic. */
async function skipEverythingQueued(groupId: string, topic: string) {
  const kafka = new Kafka({
    clientId: "e2e-offset-reset",
    brokers: fleetSetting("KAFKA_BROKERS").split(","),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.resetOffsets({ groupId, topic, earliest: false });
  } finally {
    await admin.disconnect();
  }
}

test("a choreographed checkout whose shipping lost its message is retried from reserve-stock and completes", async ({
  page,
  fleet,
}) => {
  test.setTimeout(PROCESS_START_ALLOWANCE_MS * 2 + STUCK_WITHIN_MS + 3 * SETTLES_WITHIN_MS);
  const { store, fleetDb } = fleet;
  const prefix = fleetSetting("SAGASCOPE_TOPIC_PREFIX");
  // No checkout fails by design here: the one followed must reach shipping.
  const participants = new Map(
    CHECKOUT_SERVICES.map((service) => [
      service,
      startCheckout(service, 1, service === "order" ? { SAGASCOPE_DEMO_FAILURE_RATE: "0" } : {}),
    ]),
  );
  try {
    await fleet.setFaults("inventory", { latencyMs: SLOW_RESERVATION_MS });
    // A paid checkout that shipping has seen placed (it keeps the destination), waiting at inventory.
    let sagaId: string | undefined;
    await expect
      .poll(
        async () => {
          const r = await store.query<{ saga_id: string }>(
            `SELECT s.saga_id FROM saga_summary s WHERE s.saga_type = 'marketplace-checkout' AND s.status = 'running'
               AND s.current_step = 'charge-payment' AND s.started_at > now() - interval '1 minute'
             ORDER BY s.started_at DESC LIMIT 5`,
          );
          for (const { saga_id } of r.rows) {
            const seen = await fleetDb.query(
              "SELECT 1 FROM checkout_shipping.destination WHERE order_id = $1",
              [saga_id],
            );
            if (seen.rowCount === 1) sagaId = saga_id;
          }
          return sagaId;
        },
        { timeout: PROCESS_START_ALLOWANCE_MS + SETTLES_WITHIN_MS },
      )
      .toBeDefined();
    const id = sagaId as string;

    // Shipping goes down; the reservation lands meanwhile; its message is then skipped.
    await stopChild(participants.get("shipping") as Parameters<typeof stopChild>[0]);
    await expect
      .poll(async () => (await summaryOf(store, id))?.current_step, { timeout: SETTLES_WITHIN_MS })
      .toBe("reserve-stock");
    await fleet.setFaults("inventory", { latencyMs: 0 });
    await skipEverythingQueued(`${prefix}sagascope.fleet.checkout.shipping`, checkoutTopic(prefix));
    participants.set("shipping", startCheckout("shipping", 1));

    // Nothing moves: the saga waits on shipping past its announced deadline, and is stuck.
    await expect
      .poll(async () => await summaryOf(store, id), { timeout: PROCESS_START_ALLOWANCE_MS + STUCK_WITHIN_MS })
      .toMatchObject({ status: "running", stuck: true, waiting_on: "participant" });

    await page.goto(`/sagas/${encodeURIComponent(id)}`);
    await page.getByTestId("saga-actions").getByRole("button", { name: "Retry from step…" }).click();
    const dialog = page.getByRole("dialog", { name: "Retry from step" });
    await dialog.getByLabel("First step to run again").selectOption("2");
    await dialog.getByRole("button", { name: "Retry" }).click();
    const result = page.getByTestId("action-result");
    await expect(result).toHaveAttribute("data-phase", "done", { timeout: SETTLES_WITHIN_MS });
    await expect(result).toContainText("inventory handled the trigger of step 2 (reserve-stock) again");
    await expect(page.locator("h1 [data-status]")).toHaveText("completed", { timeout: SETTLES_WITHIN_MS });

    // Inventory's step ran twice; the stock was taken once, the payment captured once, one shipment.
    const count = async (sql: string) => (await fleetDb.query(sql, [id])).rows[0].n as number;
    expect(
      await count(
        "SELECT count(*)::int AS n FROM checkout_inventory.ledger WHERE order_id = $1 AND kind = 'reserve'",
      ),
    ).toBe(1);
    expect(
      await count(
        "SELECT count(*)::int AS n FROM checkout_payment.ledger WHERE order_id = $1 AND kind = 'capture'",
      ),
    ).toBe(1);
    expect(await count("SELECT count(*)::int AS n FROM checkout_shipping.shipment WHERE order_id = $1")).toBe(
      1,
    );
    const reservations = await store.query(
      "SELECT count(*)::int AS n FROM saga_event WHERE saga_id = $1 AND type = 'io.sagascope.saga.step.succeeded' AND step = 'reserve-stock'",
      [id],
    );
    expect(reservations.rows[0].n).toBe(2);

    await page.goto(`/audit?action=saga.retry-from&target=${encodeURIComponent(id)}`);
    await expect(page.locator('tr[data-action="saga.retry-from"] li[data-phase="done"]')).toBeVisible();
  } finally {
    await Promise.all([...participants.values()].map((child) => stopChild(child)));
  }
});
