// A consumer group's lag over time and when it will clear, on the Kafka page, from the
// ingester's samples of the run's groups (every second in the suite). Two groups of the test's
// own read one topic while messages keep arriving: one consumes twice as fast as they arrive
// (clearing), the other never moves (growing); the first one's chart draws its samples.
import { expect, test } from "@playwright/test";
import { type Admin, Kafka, logLevel, type Producer } from "kafkajs";
import { ensureTopics } from "../server/events/topics.ts";
import { e2eRun } from "./fixtures/e2e-env.ts";

const BACKLOG = 3000;
/** Per round: arrivals, and what the fast reader consumes. Twice as many consumed as arrive. */
const ARRIVE = 50;
const CONSUME = 100;
/** The fast reader's lag falls by 50 a round: it stays behind for 60 rounds. */
const MAX_ROUNDS = 55;

let admin: Admin;
let producer: Producer;
const { topicPrefix, kafkaBrokers } = e2eRun();
const topic = `${topicPrefix}sagascope.e2e-group-lag`;
const fast = `${topicPrefix}sagascope.e2e-fast-reader`;
const stalled = `${topicPrefix}sagascope.e2e-stalled-reader`;

test.beforeAll(async () => {
  const kafka = new Kafka({ clientId: "e2e-group-lag", brokers: kafkaBrokers, logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
});

test.afterAll(async () => {
  await producer?.disconnect();
  await admin?.deleteGroups([fast, stalled]).catch(() => undefined);
  await admin?.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin?.disconnect();
});

const arrive = (n: number) =>
  producer.send({ topic, messages: Array.from({ length: n }, (_, i) => ({ value: `m${i}` })) });
const commit = (groupId: string, offset: number) =>
  admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: String(offset) }] });

test("the Kafka page charts a group's lag and says whether it is clearing or growing", async ({ page }) => {
  test.setTimeout(120_000);
  await ensureTopics(admin, [topic], 1);
  await arrive(BACKLOG);
  await commit(fast, 0);
  await commit(stalled, 0);

  await page.goto("/kafka");
  const fastRow = page.locator(`tr[data-group-id="${fast}"]`);
  const stalledRow = page.locator(`tr[data-group-id="${stalled}"]`);
  await expect(fastRow.getByTestId("group-lag")).toHaveAttribute("data-lag", String(BACKLOG));

  // Rounds of arrivals and consumption, until the page says what each group is doing.
  const shows = async (row: typeof fastRow, kind: string) =>
    (await row.getByTestId("time-to-clear").getAttribute("data-kind")) === kind;
  let consumed = 0;
  let rounds = 0;
  for (; rounds < MAX_ROUNDS; rounds++) {
    if ((await shows(fastRow, "clearing")) && (await shows(stalledRow, "growing"))) break;
    await arrive(ARRIVE);
    consumed += CONSUME;
    await commit(fast, consumed);
    await page.waitForTimeout(300);
  }
  expect(rounds, "rounds before both estimates were shown").toBeLessThan(MAX_ROUNDS);
  await expect(fastRow.getByTestId("time-to-clear")).toHaveText(/^clearing in ~\d+ (s|min)$/);
  await expect(fastRow.getByTestId("time-to-clear")).toHaveAttribute(
    "title",
    /^consuming [\d.]+\/s, arriving [\d.]+\/s \(over the last \d+ s\)$/,
  );
  await expect(stalledRow.getByTestId("time-to-clear")).toHaveText("growing: not clearing at this rate");

  // The fast reader's chart: its samples, falling from the backlog.
  await fastRow.getByRole("button", { name: `Show group ${fast}` }).click();
  const chart = page.getByTestId("group-lag-chart");
  await expect(chart).toBeVisible();
  await expect.poll(async () => Number(await chart.getAttribute("data-points"))).toBeGreaterThanOrEqual(2);
  await expect(chart.locator("path.recharts-line-curve")).toBeVisible();
  await expect.poll(async () => Number(await chart.getAttribute("data-last-lag"))).toBeLessThan(BACKLOG);
  await page.getByRole("combobox", { name: `Lag chart range of ${fast}` }).selectOption("1h");
  await expect(chart).toBeVisible();
});
