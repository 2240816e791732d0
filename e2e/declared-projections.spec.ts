// A projector Sagascope did not write (a plain kafkajs consumer group, written here) is
// declared a projection by an admin on the projections page; its lag, in offsets and
// seconds, follows the group as it pauses and resumes. Another role sees no declare form and
// is refused (and audited) over HTTP. The declaration is removed in the teardown.
import { randomUUID } from "node:crypto";
import { expect, test } from "@playwright/test";
import { type Consumer, Kafka, logLevel, type Producer } from "kafkajs";
import { ensureTopics } from "../server/events/index.ts";
import { e2eRun } from "./fixtures/e2e-env.ts";
import { mutate, signInAs } from "./fixtures/operators.ts";

const run = () => e2eRun();
const name = `order-history-${randomUUID().slice(0, 6)}`;
let kafka: Kafka;
let producer: Producer;
let consumer: Consumer;
let topic: string;
let groupId: string;
let consumed = 0;

test.beforeAll(async () => {
  topic = `${run().topicPrefix}their.orders`;
  groupId = `${run().topicPrefix}their.${name}`;
  kafka = new Kafka({ clientId: "their-projector", brokers: run().kafkaBrokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [topic], 1).finally(() => admin.disconnect());
  producer = kafka.producer();
  await producer.connect();
  consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async () => {
      consumed++;
    },
  });
});

test.afterAll(async ({ browser }) => {
  const page = await browser.newPage();
  await signInAs(page, "admin");
  await mutate(page.request, "actions.projection", { op: "undeclare", name, idempotencyKey: randomUUID() });
  await page.close();
  await consumer?.disconnect();
  await producer?.disconnect();
});

const publish = (count: number) =>
  producer.send({
    topic,
    messages: Array.from({ length: count }, (_, i) => ({ key: `o-${i}`, value: "{}" })),
  });

test("an admin declares a consumer group; its lag shows and follows the group", async ({ page }) => {
  await publish(5);
  await expect.poll(() => consumed, { timeout: 30_000 }).toBe(5);
  await signInAs(page, "admin");
  await page.goto("/projections");
  await page.getByText("Declare a consumer group to be a projection").click();
  const form = page.getByTestId("declare-projection");
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Consumer group").fill(groupId);
  await form.getByRole("button", { name: "Declare" }).click();
  await expect(form.locator(".action-result")).toContainText(
    `declared: ${name} is the consumer group ${groupId}`,
  );

  const row = page.locator(`tr[data-projection="${name}"]`);
  await expect(row).toContainText("declared consumer group");
  await expect(row.getByTestId("projection-offset-lag")).toHaveText("0", { timeout: 30_000 });

  consumer.pause([{ topic }]);
  await publish(7);
  await expect(row.getByTestId("projection-offset-lag")).toHaveText("7", { timeout: 30_000 });
  await row.getByRole("link", { name }).click();
  await expect(page).toHaveURL(new RegExp(`projection=${name}`));
  await expect(page.getByTestId("selected-projection")).toHaveText(name);
  const partition = page.getByTestId("projection-lag").locator("tbody tr");
  await expect(partition).toHaveCount(1);
  await expect(partition.locator("td").nth(4)).toHaveText("7");
  // Seconds behind: the oldest unread record has waited at least the time it took to show.
  await expect(partition.locator("td").nth(6)).not.toHaveText("—");

  consumer.resume([{ topic }]);
  await expect(row.getByTestId("projection-offset-lag")).toHaveText("0", { timeout: 30_000 });
  // A team's own consumer group gets the same "when will it clear?" as Sagascope's projector.
  await expect(row.getByTestId("time-to-clear")).toHaveText("caught up");
  expect(consumed).toBe(12);
});

test("an operator sees no declare form and is refused over HTTP, audited", async ({ page }) => {
  const { email } = await signInAs(page, "operator");
  await page.goto("/projections");
  await expect(page.getByTestId("projection-list")).toBeVisible();
  await expect(page.getByTestId("declare-projection")).toHaveCount(0);
  const refused = await mutate(page.request, "actions.projection", {
    op: "declare",
    name: `${name}-x`,
    groupId,
    idempotencyKey: randomUUID(),
  });
  expect(refused.status).toBe(403);
  await page.goto(`/audit?actor=${encodeURIComponent(email)}`);
  await expect(page.getByText("projection.declare").first()).toBeVisible();
  await expect(page.getByText("denied").first()).toBeVisible();
});
