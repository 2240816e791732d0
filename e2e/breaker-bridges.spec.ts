// A breaker of another library on the breakers page: a real opossum breaker in this test's
// process, reported through the opossum bridge to the suite's Kafka, opens on its callee's
// failures; the matrix shows its pair open without a reload; an operator forces it closed
// from its detail, the bridge applies it from the control channel and opossum lets calls
// reach the callee again, the page saying the caller applied it; clearing hands the breaker
// back to opossum. The same for a Resilience4j breaker in a JVM (docs/breakers.md's example).
import { randomUUID } from "node:crypto";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import CircuitBreaker from "opossum";
import { bridgeOpossum } from "../bridges/opossum.ts";
import { prepareResilience4jExample, runResilience4jExample } from "../bridges/resilience4j-example.ts";
import { topics } from "../server/events/index.ts";
import { e2eRun, PIPELINE_ALLOWANCE_MS } from "./fixtures/e2e-env.ts";
import { expect, test } from "./fixtures/fleet.ts";

/** The breakers page reads the list again at least this often (server/live/breaker-change-feed.ts). */
const LIST_TICK_MS = 2000;

test("an opossum breaker shows on the matrix, and an operator forces it closed from the dashboard: calls reach its callee again", async ({
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
  let reached = 0;
  const breaker = new CircuitBreaker(
    async () => {
      reached += 1;
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
    control: {
      kafka: new Kafka({
        clientId: "opossum-e2e-control",
        brokers: kafkaBrokers,
        logLevel: logLevel.NOTHING,
      }),
      topic: topics(topicPrefix).breakerControl,
    },
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
    const actions = detail.getByTestId("breaker-actions");
    // Its counters are opossum's: nothing to reset from here.
    await expect(actions.getByRole("button", { name: "Reset counters" })).toHaveCount(0);

    await actions.getByRole("button", { name: "Force closed" }).click();
    const dialog = page.getByRole("dialog", { name: `Force closed: ${pair}` });
    await expect(dialog).toContainText("sent on the control channel");
    await dialog.getByRole("radio", { name: "until cleared" }).check();
    await dialog.getByRole("button", { name: "Force closed" }).click();
    await expect(actions.getByTestId("action-result")).toHaveAttribute("data-phase", "done");
    // The bridge applies it and reports it back; the page says who applied it.
    const status = detail.getByTestId("control-status");
    await expect(status).toHaveAttribute("data-applied", "all", {
      timeout: PIPELINE_ALLOWANCE_MS + LIST_TICK_MS,
    });
    await expect(status).toContainText("Applied by payments-7");
    await expect(cell).toHaveAttribute("data-forced", "closed");
    // opossum lets every call through to the callee now (it still fails: forced closed is not healed).
    const before = reached;
    for (let i = 0; i < 3; i++) await breaker.fire().catch(() => {});
    expect(reached - before).toBe(3);

    await actions.getByRole("button", { name: "Clear override" }).click();
    await page
      .getByRole("dialog", { name: `Clear override: ${pair}` })
      .getByRole("button", { name: "Clear" })
      .click();
    await expect(cell).toHaveAttribute("data-forced", "", { timeout: PIPELINE_ALLOWANCE_MS + LIST_TICK_MS });
    await expect(cell).toHaveAttribute("data-state", "closed");
    expect(breaker.enabled && breaker.closed).toBe(true);
  } finally {
    await bridge.stop();
    await producer.disconnect();
  }
});

test("a Resilience4j breaker (Java) shows on the matrix; forced closed from the dashboard, Resilience4j lets calls through", async ({
  page,
}) => {
  const { kafkaBrokers, topicPrefix } = e2eRun();
  // Its own directory: the vitest run of the same example may build beside it.
  const classpath = prepareResilience4jExample(path.resolve("test-results/resilience4j-e2e"));
  const callee = `ledger-${randomUUID().slice(0, 8)}`;
  const pair = `payments→${callee}`;
  const java = runResilience4jExample(classpath, {
    brokers: kafkaBrokers,
    topic: topics(topicPrefix).breakerEvents,
    controlTopic: topics(topicPrefix).breakerControl,
    callee,
  });
  try {
    await page.goto("/breakers");
    expect(await java.first()).toBe(`${pair} is OPEN`);
    const cell = page.getByTestId("breaker-matrix").locator(`a[data-pair="${pair}"]`);
    await expect(cell).toHaveAttribute("data-state", "open", {
      timeout: PIPELINE_ALLOWANCE_MS + LIST_TICK_MS,
    });
    await cell.click();
    const detail = page.getByTestId("breaker-detail");
    await expect(detail.getByTestId("reported-by")).toContainText(/payments-\d+/);
    await expect(detail.getByTestId("breaker-config")).toContainText("Failure-rate threshold50%");
    const actions = detail.getByTestId("breaker-actions");
    await actions.getByRole("button", { name: "Force closed" }).click();
    const dialog = page.getByRole("dialog", { name: `Force closed: ${pair}` });
    await dialog.getByRole("radio", { name: "until cleared" }).check();
    await dialog.getByRole("button", { name: "Force closed" }).click();
    await expect(actions.getByTestId("action-result")).toHaveAttribute("data-phase", "done");
    await expect(detail.getByTestId("control-status")).toHaveAttribute("data-applied", "all", {
      timeout: PIPELINE_ALLOWANCE_MS + LIST_TICK_MS,
    });
    await expect(cell).toHaveAttribute("data-forced", "closed");
    // Resilience4j was made DISABLED: the call reaches the ledger (still down) instead of being refused.
    expect(await java.ask("call")).toBe("DISABLED IllegalStateException reached=5");
  } finally {
    await java.stop();
  }
});
