// Retry from a step of a choreographed saga, from its page, against the real fleet: a
// checkout's shipping service lost its message (its consumer group's offsets were moved past
// it while it was down, as a careless offset reset or a retention sweep would), so the saga
// waits on shipping and is reported stuck. Retried from reserve-stock, inventory handles the
// message that triggered its step again (without taking the stock twice), shipping gets the
// reservation anew and the saga completes. The checkout participants are the spec's own; the
// fleet fixture clears the faults afterwards, on failure too. A saga of a single step has no
// step to retry from, and its page says so.
import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { Kafka, logLevel } from "kafkajs";
import type pg from "pg";
import { stopChild } from "../scripts/processes.ts";
import { CHECKOUT_SERVICES, checkoutTopic } from "../server/fleet/checkout/checkout-saga.ts";
import { PIPELINE_ALLOWANCE_MS, PROCESS_START_ALLOWANCE_MS } from "./fixtures/e2e-env.ts";
import { expect, test } from "./fixtures/fleet.ts";
import { fleetSetting, startCheckout } from "./fixtures/fleet-control.ts";
import { publishByHand } from "./fixtures/publish-by-hand.ts";

/** Long enough to find a paid checkout whose reservation is under way. */
const SLOW_RESERVATION_MS = 8000;
/** Few orders: each waits its turn at the slowed inventory. */
const ORDERS_PER_SECOND = 0.5;
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

/** Runs a command to its end; a non-zero exit throws with what it printed. */
const run = (command: string, args: string[], timeout: number) =>
  new Promise<void>((resolve, reject) =>
    execFile(command, args, { timeout }, (error, stdout, stderr) =>
      error
        ? reject(new Error(`${command} ${args.join(" ")}: ${error.message}\n${stdout}${stderr}`))
        : resolve(),
    ),
  );

/**
 * Moves the consumer group of a stopped participant past every message now on the topic, once
 * the group has no member left (Kafka refuses to move a group that still has one), with Kafka's
 * own tool as an operator would (kafkajs's resetOffsets joins the group to seek, and can leave
 * before its commit lands); checked by reading the group's offsets back.
 */
async function skipEverythingQueued(groupId: string, topic: string, withinMs: number) {
  const brokers = fleetSetting("KAFKA_BROKERS");
  const kafka = new Kafka({
    clientId: "e2e-offset-reset",
    brokers: brokers.split(","),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await expect
      .poll(async () => (await admin.describeGroups([groupId])).groups[0]?.state, { timeout: withinMs })
      .toMatch(/^(Empty|Dead)$/);
    const ends = await admin.fetchTopicOffsets(topic);
    // Asynchronously: the tool starts a JVM, and the worker must not stand still meanwhile.
    await run(
      "node_modules/.bin/tsx",
      [
        "scripts/infra/kafka-tool.ts",
        "consumer-groups",
        "--bootstrap-server",
        brokers,
        "--group",
        groupId,
        "--topic",
        topic,
        "--reset-offsets",
        "--to-latest",
        "--execute",
      ],
      120_000,
    );
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    for (const { partition, high } of ends) {
      const at = committed?.partitions.find((p) => p.partition === partition)?.offset;
      expect(Number(at), `partition ${partition} of ${groupId}`).toBeGreaterThanOrEqual(Number(high));
    }
  } finally {
    await admin.disconnect();
  }
}

test("a choreographed checkout whose shipping lost its message is retried from reserve-stock and completes", async ({
  page,
  fleet,
}) => {
  test.setTimeout(PROCESS_START_ALLOWANCE_MS * 3 + STUCK_WITHIN_MS + 6 * SETTLES_WITHIN_MS);
  const { store, fleetDb } = fleet;
  const prefix = fleetSetting("SAGASCOPE_TOPIC_PREFIX");
  // Orders of this spec only: the fleet's database keeps earlier specs' checkouts.
  const began = new Date();
  // No checkout fails by design here: the one followed must reach shipping.
  const participants = new Map(
    CHECKOUT_SERVICES.map((service) => [
      service,
      startCheckout(
        service,
        ORDERS_PER_SECOND,
        service === "order" ? { SAGASCOPE_DEMO_FAILURE_RATE: "0" } : {},
      ),
    ]),
  );
  try {
    await fleet.setFaults("inventory", { latencyMs: SLOW_RESERVATION_MS });
    // Shipping goes down once it has seen orders placed (it keeps their destinations). Its
    // tables may not exist yet: the services make them as they start.
    await expect
      .poll(
        async () =>
          (
            await fleetDb
              .query(
                `SELECT 1 FROM checkout_shipping.destination d JOIN checkout_order.customer_order o USING (order_id)
                 WHERE o.placed_at > $1 LIMIT 1`,
                [began],
              )
              .catch((error: { code?: string }) => {
                if (error.code === "42P01" || error.code === "3F000") return { rowCount: 0 }; // not made yet
                throw error;
              })
          ).rowCount,
        { timeout: PROCESS_START_ALLOWANCE_MS + SETTLES_WITHIN_MS },
      )
      .toBe(1);
    await stopChild(participants.get("shipping") as Parameters<typeof stopChild>[0]);
    // A paid checkout that shipping saw placed, whose stock is not reserved yet: its
    // reservation lands while shipping is down.
    let sagaId: string | undefined;
    await expect
      .poll(
        async () => {
          const r = await fleetDb.query<{ order_id: string }>(
            `SELECT r.order_id FROM checkout_inventory.reservation r
               JOIN checkout_shipping.destination d USING (order_id)
               JOIN checkout_payment.payment p USING (order_id)
               JOIN checkout_order.customer_order o USING (order_id)
             WHERE r.status = 'expected' AND p.status = 'captured' AND o.placed_at > $1 LIMIT 1`,
            [began],
          );
          sagaId = r.rows[0]?.order_id;
          return sagaId;
        },
        { timeout: SETTLES_WITHIN_MS },
      )
      .toBeDefined();
    const id = sagaId as string;
    await expect
      .poll(async () => (await summaryOf(store, id))?.current_step, { timeout: 2 * SETTLES_WITHIN_MS })
      .toBe("reserve-stock");
    await fleet.setFaults("inventory", { latencyMs: 0 });
    // The reservation is published before the skip, so that the skip takes its message to
    // shipping too: reserved, and nothing of the saga left unsent in inventory's outbox.
    await expect
      .poll(
        async () =>
          (
            await fleetDb.query(
              `SELECT 1 FROM checkout_inventory.reservation r
               WHERE r.order_id = $1 AND r.status = 'reserved'
                 AND NOT EXISTS (SELECT 1 FROM checkout_inventory.outbox o
                                 WHERE o.key = $1 AND o.published_at IS NULL)`,
              [id],
            )
          ).rowCount,
        { timeout: SETTLES_WITHIN_MS },
      )
      .toBe(1);
    // Its message to shipping is skipped, as a careless offset reset or a retention sweep would.
    await skipEverythingQueued(
      `${prefix}sagascope.fleet.checkout.shipping`,
      checkoutTopic(prefix),
      PROCESS_START_ALLOWANCE_MS,
    );
    participants.set("shipping", startCheckout("shipping", ORDERS_PER_SECOND));

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

test("a choreographed saga of a single step offers no retry-from, and says why", async ({ page }) => {
  const sagaId = `single-${randomUUID()}`;
  const base = { sagaId, sagaType: "outside-signup", mode: "choreographed" };
  const welcome = { ...base, step: "send-welcome", stepIndex: 0, service: "mailer" };
  await publishByHand(randomBytes(16).toString("hex"), [
    {
      type: "saga.started",
      key: sagaId,
      value: JSON.stringify({ ...base, steps: [{ name: "send-welcome", service: "mailer" }] }),
    },
    { type: "saga.step.started", key: sagaId, value: JSON.stringify(welcome) },
  ]);
  await page.goto(`/sagas/${encodeURIComponent(sagaId)}`);
  const retryFrom = page.getByRole("button", { name: "Retry from step…" });
  await expect(retryFrom).toBeDisabled();
  await expect(retryFrom).toHaveAttribute("title", /retried from its second step on.*single step/);
  // What the saga allows otherwise is offered as before.
  await expect(page.getByRole("button", { name: "Compensate now" })).toBeEnabled();
});
