// A breaker of another library on the breakers page: a real opossum breaker in this test's
// process, reported through the opossum bridge to the suite's Kafka, opens on its callee's
// failures; the matrix shows its pair open without a reload, its detail says its library
// keeps it (and offers no override that could not reach it); closed again, the cell follows.
import { randomUUID } from "node:crypto";
import { Kafka, logLevel } from "kafkajs";
import CircuitBreaker from "opossum";
import { bridgeOpossum } from "../bridges/opossum.ts";
import { topics } from "../server/events/index.ts";
import { e2eRun, PIPELINE_ALLOWANCE_MS } from "./fixtures/e2e-env.ts";
import { expect, test } from "./fixtures/fleet.ts";

/** The breakers page reads the list again at least this often (server/live/breaker-change-feed.ts). */
const LIST_TICK_MS = 2000;

test("an opossum breaker reported through the bridge shows on the matrix, open then closed", async ({
  page,
}) => {
  const { kafkaBrokers, topicPrefix } = e2eRun();
  const producer = new Kafka({
    clientId: "opossum-e2e",
    brokers: kafkaBrokers,
    logLevel: logLevel.NOTHING,
  }).producer();
  await producer.connect();
  const callee = `ledger-${randomUUID().slice(0, 8)}`;
  const pair = `payments→${callee}`;
  const breaker = new CircuitBreaker(
    async () => {
      throw new Error("ledger is down");
    },
    // Open for longer than the spec runs: the page is read while opossum holds it open.
    { errorThresholdPercentage: 50, volumeThreshold: 4, resetTimeout: 10 * 60_000 },
  );
  const bridge = bridgeOpossum(breaker, {
    producer,
    topic: topics(topicPrefix).breakerEvents,
    caller: "payments",
    callee,
    instance: "payments-7",
    statsEveryMs: 1000,
  });
  try {
    await page.goto("/breakers");
    for (let i = 0; i < 6; i++) await breaker.fire().catch(() => {});
    expect(breaker.opened).toBe(true);
    const cell = page.getByTestId("breaker-matrix").locator(`a[data-pair="${pair}"]`);
    await expect(cell).toHaveAttribute("data-state", "open", {
      timeout: PIPELINE_ALLOWANCE_MS + LIST_TICK_MS,
    });
    await expect(cell).toHaveAccessibleName(new RegExp(`^payments → ${callee}: open`));

    await cell.click();
    const detail = page.getByTestId("breaker-detail");
    await expect(detail.getByTestId("reported-by")).toContainText("payments-7");
    await expect(detail.getByTestId("breaker-config")).toContainText("Failure-rate threshold50%");
    await expect(detail.getByTestId("no-overrides")).toBeVisible();
    await expect(detail.getByRole("button", { name: /Force/ })).toHaveCount(0);

    breaker.close();
    await expect(cell).toHaveAttribute("data-state", "closed", {
      timeout: PIPELINE_ALLOWANCE_MS + LIST_TICK_MS,
    });
  } finally {
    await bridge.stop();
    await producer.disconnect();
  }
});
