// A saga of 5 000 events (a step retried 2 499 times, then done), published by a producer of
// its own and stored by the ingester, opened in Chromium: the time from navigation to the
// timeline and the first events drawn, and the API's time for the saga (the page's one query),
// printed as p50/p95/p99 (test-results/long-saga.json). The events table draws 200 rows and more on
// request; a long run of one step's attempts is folded on the timeline. Asserts what the page
// shows, never how fast.
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { Kafka, logLevel, Partitioners } from "kafkajs";
import { encodeSagaEvent, newTrace, type SagaEvent, sagaEvent } from "../server/events/index.ts";
import { e2eRun } from "./fixtures/e2e-env.ts";
import { expect, test } from "./fixtures/fleet.ts";
import { signInAs } from "./fixtures/operators.ts";
import { figuresOf } from "./fixtures/percentiles.ts";

const EVENTS = 5000;
const ATTEMPTS = (EVENTS - 2) / 2;
const OPENINGS = 5;

function longSaga(): SagaEvent[] {
  const sagaId = `long-saga-${randomUUID()}`;
  const o = { source: "/long-saga", trace: newTrace() };
  const base = { sagaId, sagaType: "long-poll", mode: "orchestrated" as const };
  const step = { ...base, step: "await-settlement", stepIndex: 0, service: "settlement-gateway" };
  const t0 = Date.now() - EVENTS * 10;
  const at = (i: number) => ({ ...o, time: new Date(t0 + i * 10) });
  const events: SagaEvent[] = [
    sagaEvent(
      "io.sagascope.saga.started",
      { ...base, steps: [{ name: "await-settlement", service: "settlement-gateway" }] },
      at(0),
    ),
  ];
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    events.push(sagaEvent("io.sagascope.saga.step.started", { ...step, attempt }, at(events.length)));
    events.push(
      attempt < ATTEMPTS
        ? sagaEvent(
            "io.sagascope.saga.step.failed",
            {
              ...step,
              attempt,
              durationMs: 4,
              willRetry: true,
              error: { category: "transient", message: "not settled yet" },
            },
            at(events.length),
          )
        : sagaEvent(
            "io.sagascope.saga.step.succeeded",
            { ...step, attempt, durationMs: 4 },
            at(events.length),
          ),
    );
  }
  events.push(
    sagaEvent("io.sagascope.saga.completed", { ...base, durationMs: EVENTS * 10 }, at(events.length)),
  );
  return events;
}

test("a saga of 5 000 events opens with its timeline and its first events, more on request", async ({
  page,
  fleet,
}) => {
  test.setTimeout(180_000);
  const events = longSaga();
  expect(events).toHaveLength(EVENTS);
  const sagaId = events[0]?.data.sagaId as string;
  const { kafkaBrokers, sagaTopic } = e2eRun();
  const producer = new Kafka({
    clientId: "long-saga",
    brokers: kafkaBrokers,
    logLevel: logLevel.NOTHING,
  }).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    for (let i = 0; i < events.length; i += 500)
      await producer.send({ topic: sagaTopic, messages: events.slice(i, i + 500).map(encodeSagaEvent) });
  } finally {
    await producer.disconnect();
  }
  await expect
    .poll(
      async () =>
        (
          await fleet.store.query<{ n: number; status: string }>(
            "SELECT event_count AS n, status FROM saga_summary WHERE saga_id = $1",
            [sagaId],
          )
        ).rows[0],
      { timeout: 60_000, intervals: [250] },
    )
    .toEqual({ n: EVENTS, status: "completed" });

  await signInAs(page, "viewer");
  const url = `/sagas/${encodeURIComponent(sagaId)}`;
  const openMs: number[] = [];
  for (let i = 0; i < OPENINGS; i++) {
    const began = Date.now();
    await page.goto(url);
    await expect(page.getByTestId("saga-timeline").locator("li").last()).toBeVisible({ timeout: 30_000 });
    await expect(page.locator("[data-testid=saga-events] tbody tr").first()).toBeVisible();
    openMs.push(Date.now() - began);
  }
  // The first and last ten attempts drawn, the 2 479 between counted in one row.
  const timelineRows = page.getByTestId("saga-timeline").locator("li");
  await expect(timelineRows).toHaveCount(21);
  const folded = page.locator('[data-testid=saga-timeline] li[data-kind="folded"]');
  await expect(folded).toHaveAttribute("data-count", String(ATTEMPTS - 20));
  await expect(folded).toContainText(`${ATTEMPTS - 20} attempts folded: ${ATTEMPTS - 20} failed`);
  await expect(timelineRows.last()).toHaveAttribute("data-outcome", "succeeded");
  const rows = page.locator("[data-testid=saga-events] tbody tr");
  await expect(rows).toHaveCount(200);
  await expect(rows.first()).toHaveAttribute("data-event-type", "io.sagascope.saga.started");
  await expect(page.getByText("200 of 5000 shown, in time order")).toBeVisible();
  await page.getByTestId("more-events").click();
  await expect(rows).toHaveCount(400);
  // Event 201 of the saga: the failure of attempt 100.
  await expect(rows.nth(200)).toHaveAttribute("data-event-type", "io.sagascope.saga.step.failed");
  await page.getByTestId("more-events").click();
  await expect(rows).toHaveCount(600);

  const apiMs: number[] = [];
  const input = encodeURIComponent(JSON.stringify({ json: { sagaId } }));
  for (let i = 0; i < 20; i++) {
    const began = Date.now();
    const response = await page.request.get(`/api/trpc/sagas.byId?input=${input}`);
    expect(response.ok()).toBe(true);
    await response.body();
    apiMs.push(Date.now() - began);
  }
  const result = {
    events: EVENTS,
    attempts: ATTEMPTS,
    pageOpenMs: figuresOf(openMs),
    apiMs: figuresOf(apiMs),
  };
  console.log(`long saga: ${JSON.stringify(result)}`);
  writeFileSync("test-results/long-saga.json", `${JSON.stringify(result, null, 2)}\n`);
});
