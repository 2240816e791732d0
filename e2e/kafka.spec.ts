// The Kafka page against the e2e run's own cluster state: the run's topics, a topic and group
// made here with exact offsets, and the running ingester's group, whose figures are held
// between two reads of Kafka's admin API made by the test itself.
import { expect, type Page, test } from "@playwright/test";
import { type Admin, Kafka, logLevel } from "kafkajs";
import { ensureTopics, topics } from "../server/events/topics.ts";
import { e2eRun } from "./fixtures/e2e-env.ts";

let admin: Admin;

test.beforeAll(async () => {
  admin = new Kafka({
    clientId: "e2e-kafka-page",
    brokers: e2eRun().kafkaBrokers,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
});

test.afterAll(async () => {
  await admin?.disconnect();
});

/** Committed offset and log end per "topic/partition" of a group, as Kafka's admin API says now. */
async function adminPositions(groupId: string, topicNames: string[]) {
  const ends = new Map<string, number>();
  for (const topic of topicNames)
    for (const o of await admin.fetchTopicOffsets(topic)) ends.set(`${topic}/${o.partition}`, Number(o.high));
  const committed = new Map<string, number>();
  for (const t of await admin.fetchOffsets({ groupId, topics: topicNames }))
    for (const p of t.partitions) committed.set(`${t.topic}/${p.partition}`, Number(p.offset));
  return { ends, committed };
}

/** One render's read-at and per-partition figures of a group's detail table, taken at once. */
function pagePositions(page: Page, groupId: string) {
  return page.evaluate((id) => {
    const readAt = Number(document.querySelector("[data-read-at]")?.getAttribute("data-read-at"));
    const row = document.querySelector(`tr[data-group-id="${CSS.escape(id)}"]`);
    const detail = row?.nextElementSibling;
    const rows = [...(detail?.querySelectorAll("tr[data-partition]") ?? [])].map((r) => ({
      key: r.getAttribute("data-partition") ?? "",
      committed: r.getAttribute("data-committed") === "" ? null : Number(r.getAttribute("data-committed")),
      logEnd: Number(r.getAttribute("data-log-end")),
      lag: r.getAttribute("data-lag") === "" ? null : Number(r.getAttribute("data-lag")),
    }));
    const total = Number(row?.querySelector("[data-lag]")?.getAttribute("data-lag"));
    return { readAt, rows, total };
  }, groupId);
}

test("the Kafka page shows the run's topics, its groups and their exact lag", async ({ page }) => {
  test.setTimeout(90_000);
  const { topicPrefix } = e2eRun();
  const topic = `${topicPrefix}sagascope.e2e-kafka-page`;
  const group = `${topicPrefix}sagascope.e2e-kafka-reader`;
  await ensureTopics(admin, [topic], 2);
  const producer = new Kafka({
    clientId: "e2e-kafka-page",
    brokers: e2eRun().kafkaBrokers,
    logLevel: logLevel.NOTHING,
  }).producer();
  await producer.connect();
  await producer.send({
    topic,
    messages: Array.from({ length: 7 }, (_, i) => ({ partition: 0, value: `a${i}` })),
  });
  await producer.send({
    topic,
    messages: Array.from({ length: 3 }, (_, i) => ({ partition: 1, value: `b${i}` })),
  });
  await producer.disconnect();
  // The group has read 2 of partition 0's 7 messages and all 3 of partition 1's: 5 behind.
  await admin.setOffsets({
    groupId: group,
    topic,
    partitions: [
      { partition: 0, offset: "2" },
      { partition: 1, offset: "3" },
    ],
  });

  await page.goto("/kafka");
  await expect(page.getByTestId("kafka-brokers")).toContainText("controller");
  for (const name of Object.values(topics(topicPrefix)))
    await expect(page.locator(`tr[data-topic="${name}"]`)).toBeVisible();

  const topicRow = page.locator(`tr[data-topic="${topic}"]`);
  await expect(topicRow.getByTestId("topic-partitions")).toHaveText("2");
  await expect(topicRow.getByTestId("topic-messages")).toHaveText("10");
  // The partitions open from the keyboard.
  const expandTopic = topicRow.getByRole("button");
  await expandTopic.focus();
  await page.keyboard.press("Enter");
  await expect(expandTopic).toHaveAttribute("aria-expanded", "true");
  const partitions = page.getByTestId("topic-partition-table").locator("tr[data-partition]");
  await expect(partitions).toHaveCount(2);
  const leader = String((await admin.describeCluster()).brokers[0]?.nodeId);
  // partition, leader, replicas, in sync, earliest, latest, messages
  await expect(partitions.nth(0).locator("td")).toHaveText(["0", leader, leader, leader, "0", "7", "7"]);
  await expect(partitions.nth(1).locator("td")).toHaveText(["1", leader, leader, leader, "0", "3", "3"]);

  const groupRow = page.locator(`tr[data-group-id="${group}"]`);
  await expect(groupRow.getByTestId("group-lag")).toHaveAttribute("data-lag", "5");
  await expect(groupRow.getByTestId("group-state")).toHaveText("Empty");
  await groupRow.getByRole("button").click();
  const groupDetail = groupRow.locator("xpath=following-sibling::tr[1]").locator("tr[data-partition]");
  await expect(groupDetail).toHaveCount(2);
  await expect(groupDetail.nth(0)).toHaveAttribute("data-lag", "5");
  await expect(groupDetail.nth(1)).toHaveAttribute("data-lag", "0");

  // A consumer lag alert links here with its group named: the group is marked and open.
  await page.goto(`/kafka?group=${encodeURIComponent(group)}`);
  await expect(groupRow).toHaveAttribute("aria-current", "true");
  await expect(groupRow.getByRole("button")).toHaveAttribute("aria-expanded", "true");
  await expect(groupDetail).toHaveCount(2);

  // The ingester's own group: a live member, and figures Kafka confirms.
  const ingestGroup = `${topicPrefix}ingester`;
  const ingester = page.locator(`tr[data-group-id="${ingestGroup}"]`);
  await expect(ingester).toHaveAttribute("data-owner", "ingester");
  await expect(ingester.getByTestId("group-state")).toHaveText("Stable");
  await ingester.getByRole("button").click();
  await expect(ingester.locator("xpath=following-sibling::tr[1]").locator("li").first()).toContainText(
    "sagascope-ingester on",
  );
  const ingestTopics = Object.values(topics(topicPrefix));
  const before = await adminPositions(ingestGroup, ingestTopics);
  const askedAt = Date.now();
  await expect.poll(async () => (await pagePositions(page, ingestGroup)).readAt > askedAt).toBe(true);
  const shown = await pagePositions(page, ingestGroup);
  const after = await adminPositions(ingestGroup, ingestTopics);
  expect(shown.rows.length).toBeGreaterThan(0);
  for (const r of shown.rows) {
    const [lowEnd, highEnd] = [before.ends.get(r.key) ?? -1, after.ends.get(r.key) ?? -1];
    expect(r.logEnd, r.key).toBeGreaterThanOrEqual(lowEnd);
    expect(r.logEnd, r.key).toBeLessThanOrEqual(highEnd);
    if (r.committed === null) continue;
    expect(r.committed, r.key).toBeGreaterThanOrEqual(before.committed.get(r.key) ?? -1);
    expect(r.committed, r.key).toBeLessThanOrEqual(after.committed.get(r.key) ?? -1);
    expect(r.lag, r.key).toBe(Math.max(0, r.logEnd - r.committed));
  }
  expect(shown.total).toBe(shown.rows.reduce((n, r) => n + (r.lag ?? 0), 0));
  // The ingester keeps up with the fleet: its lag comes back to 0.
  await expect(ingester.getByTestId("group-lag")).toHaveAttribute("data-lag", "0", { timeout: 30_000 });

  await admin.deleteGroups([group]).catch(() => undefined);
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
});

test("the Kafka page says plainly when it cannot read, and keeps the last read", async ({ page }) => {
  await page.goto("/kafka");
  await expect(page.getByTestId("kafka-groups")).toBeVisible();
  await page.route("**/api/trpc/kafka.overview**", (route) => route.abort("connectionrefused"));
  const panel = page.getByRole("alert").filter({ hasText: "Kafka cannot be read" });
  await expect(panel).toContainText("below is the last successful read", { timeout: 15_000 });
  await expect(page.getByTestId("kafka-groups")).toBeVisible();
  await page.unroute("**/api/trpc/kafka.overview**");
  await expect(panel).toHaveCount(0, { timeout: 15_000 });
});
