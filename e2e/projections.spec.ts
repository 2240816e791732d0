// The projections page against the real projector: an order's changes, published by hand on
// the four services' change topics as any service would, appear joined in the order view
// without a reload, with the read model's freshness and lag.
import { randomBytes, randomUUID } from "node:crypto";
import { Kafka, logLevel } from "kafkajs";
import { e2eRun } from "./fixtures/e2e-env.ts";
import { expect, test } from "./fixtures/fleet.ts";

async function publishChange(service: string, type: string, id: string, version: number, state: object) {
  const { kafkaBrokers, topicPrefix } = e2eRun();
  const producer = new Kafka({
    clientId: "outside",
    brokers: kafkaBrokers,
    logLevel: logLevel.NOTHING,
  }).producer();
  await producer.connect();
  const occurredAt = new Date().toISOString();
  await producer.send({
    topic: `${topicPrefix}sagascope.fleet.${service}.changes`,
    messages: [
      {
        key: id,
        value: JSON.stringify({
          aggregateType: type,
          aggregateId: id,
          op: version === 1 ? "created" : "updated",
          version,
          occurredAt,
          state,
        }),
        headers: {
          ce_specversion: "1.0",
          ce_id: randomUUID(),
          ce_source: `/outside/${service}`,
          ce_type: `shop.${type}.changed`,
          ce_time: occurredAt,
          "content-type": "application/json",
          traceparent: `00-${randomBytes(16).toString("hex")}-${randomBytes(8).toString("hex")}-01`,
        },
      },
    ],
  });
  await producer.disconnect();
}

test("an order's changes from four services appear joined in the order view, live", async ({ page }) => {
  test.setTimeout(90_000);
  const orderId = `order-e2e-${randomUUID()}`;
  await page.goto("/projections");
  await expect(page.getByTestId("freshness")).toContainText("Generation 1", { timeout: 30_000 });
  const loads: string[] = [];
  page.on("load", () => loads.push(page.url()));

  // A change carries the aggregate's whole state after it, as the fleet's services send it.
  const placed = {
    customer_id: "C-042",
    sku: "SKU-3",
    quantity: 2,
    amount_cents: 1234,
    status: "placed",
    placed_at: new Date().toISOString(),
  };
  await publishChange("order", "order", orderId, 1, placed);
  const row = page.locator(`tr[data-order-id="${orderId}"]`);
  await expect(row).toContainText("placed", { timeout: 30_000 });
  await expect(row).toContainText("2 × SKU-3");

  await publishChange("payment", "payment", orderId, 1, { status: "captured" });
  await publishChange("inventory", "reservation", orderId, 1, { status: "expected" });
  await publishChange("inventory", "reservation", orderId, 2, { status: "reserved" });
  await publishChange("shipping", "shipment", orderId, 1, { shipment_id: `SHP-${orderId}` });
  // Its placing time kept: a version without it would empty it, and the view lists orders
  // newest placed first, so the order would sink below the first 50 on a busy run.
  await publishChange("order", "order", orderId, 2, { ...placed, status: "confirmed" });
  // An old change arriving late changes nothing.
  await publishChange("inventory", "reservation", orderId, 1, { status: "expected" });

  await expect(row).toContainText("confirmed", { timeout: 30_000 });
  await expect(row).toContainText("captured");
  await expect(row).toContainText("reserved");
  await expect(row).toContainText(`SHP-${orderId}`.slice(0, 20));
  await expect(page.getByTestId("projection-lag")).toBeVisible({ timeout: 30_000 });
  expect(loads).toEqual([]);
});

test("lag grows while the projector is paused, the lookup says what waits, and both recover", async ({
  page,
  fleet,
}) => {
  const orderId = `order-${randomUUID()}`;
  const lateOrder = `order-${randomUUID()}`;
  const total = async () => Number(await page.getByTestId("total-lag").textContent());
  const ask = async (query: string) => {
    await page.getByLabel("Event id, saga id, aggregate id or topic:partition:offset").fill(query);
    await page.getByRole("button", { name: "Ask" }).click();
  };
  await page.goto("/projections");
  await publishChange("order", "order", orderId, 1, { customerId: "c-1", sku: "SKU-1", quantity: 1 });
  await ask(orderId);
  await expect(page.locator("[data-testid=seen-answers] [data-seen=yes]").first()).toContainText(
    "order view",
    { timeout: 30_000 },
  );

  await fleet.setFaults("projector", { paused: true });
  // The fleet keeps writing (account changes of every transfer), so the backlog builds up.
  await expect.poll(total, { timeout: 30_000 }).toBeGreaterThan(0);
  const first = await total();
  await expect.poll(total, { timeout: 30_000 }).toBeGreaterThan(first);
  // Surely paused now: this order's change waits.
  await publishChange("order", "order", lateOrder, 1, { customerId: "c-2", sku: "SKU-2", quantity: 2 });
  await expect(page.getByTestId("lag-charts")).toBeVisible();
  await ask(lateOrder);
  const notYet = page.locator("[data-testid=seen-answers] [data-seen=no]");
  await expect(notYet).toContainText("Not seen", { timeout: 20_000 });
  await expect(notYet).toContainText("waiting");

  // Paused, nothing is consumed while the fleet writes: the list says it is not clearing.
  const clears = page.locator("[data-projection=fleet] [data-testid=time-to-clear]");
  await expect(clears).toHaveAttribute("data-kind", "growing", { timeout: 45_000 });
  await expect(clears).toHaveText("growing: not clearing at this rate");
  await expect(clears).toHaveAttribute("title", /^consuming 0\.0\/s, arriving \d/);

  await fleet.setFaults("projector", { paused: false });
  const resumedAt = Date.now();
  await expect(page.locator("[data-testid=seen-answers] [data-seen=yes]")).toContainText("order view", {
    timeout: 30_000,
  });
  // Recovered: a checkpoint taken after the resume finds every change that waited at the
  // resume applied. The fleet keeps writing meanwhile, so a change or two written since may be
  // on their way; each partition's oldest waiting change must be younger than the resume.
  const backlogLeft = () =>
    page.locator("[data-testid=projection-lag] tbody tr").evaluateAll(
      (rows, since) =>
        rows.filter((row) => {
          const { offsetLag, oldestWaitingMs, sampledAt } = (row as HTMLElement).dataset;
          if (Number(sampledAt) <= since) return true;
          if (Number(offsetLag) === 0) return false;
          return oldestWaitingMs === "" || Number(sampledAt) - Number(oldestWaitingMs) <= since;
        }).length,
      resumedAt,
    );
  await expect.poll(backlogLeft, { timeout: 30_000 }).toBe(0);
  // Consuming again faster than the changes arrive: clearing, keeping up or caught up.
  await expect(clears).toHaveAttribute("data-kind", /^(clearing|keeping-up|caught-up)$/, { timeout: 30_000 });
});
