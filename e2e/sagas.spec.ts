// The saga views in Chromium against the production build, fed by the real fleet and
// by events published the way docs/events.md tells an outside service to.
import { randomBytes, randomUUID } from "node:crypto";
import { expect, test } from "@playwright/test";
import pg from "pg";
import { E2E_FLEET, e2eRun, FLEET_SAGA_WITHIN_MS, PIPELINE_ALLOWANCE_MS } from "./fixtures/e2e-env.ts";
import { publishByHand } from "./fixtures/publish-by-hand.ts";

test("a saga of the demo fleet appears without a reload and opens on its own page", async ({ page }) => {
  await page.goto("/sagas");
  await expect(page.getByTestId("live-indicator")).toHaveText(/live/);
  // A marker that a reload would wipe: the list must update in place.
  await page.evaluate(() => {
    (window as unknown as { noReload: boolean }).noReload = true;
  });
  const rows = page.locator("[data-saga-id]");
  const seen = await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-saga-id")));
  const fresh = page.locator(`[data-saga-id]${seen.map((id) => `:not([data-saga-id="${id}"])`).join("")}`);
  await expect(fresh.first()).toBeVisible({ timeout: FLEET_SAGA_WITHIN_MS });
  expect(await page.evaluate(() => (window as unknown as { noReload?: boolean }).noReload)).toBe(true);

  const sagaId = await fresh.first().getAttribute("data-saga-id");
  // That very row: on a busy machine another new saga can come first between two lookups.
  await page.locator(`[data-saga-id="${sagaId}"] .saga-link`).click();
  await expect(page.getByTestId("saga-id")).toHaveText(sagaId ?? "");
  await expect(page.locator('[data-kind="step"][data-step="debit"]').first()).toBeVisible();
  await expect(page.locator('[data-event-type="io.sagascope.saga.started"]')).toHaveCount(1);
  await page.locator('[data-event-type="io.sagascope.saga.started"] summary').click();
  await expect(page.locator('[data-event-type="io.sagascope.saga.started"] pre')).toContainText(
    `"sagaId": "${sagaId}"`,
  );
  await page.screenshot({ path: "test-results/screens/saga-detail.png", fullPage: true });
});

test("a compensated saga published by an outside client shows its steps and compensation in order", async ({
  page,
}) => {
  const sagaId = `outside-${randomUUID()}`;
  const traceId = randomBytes(16).toString("hex");
  const base = { sagaId, sagaType: "outside-transfer", mode: "orchestrated" };
  const debit = { ...base, step: "debit", stepIndex: 0, service: "ledger-a" };
  const credit = { ...base, step: "credit", stepIndex: 1, service: "ledger-b" };
  const t0 = Date.now() - 5_000;
  const events: [string, object][] = [
    [
      "saga.started",
      {
        ...base,
        steps: [
          { name: "debit", service: "ledger-a" },
          { name: "credit", service: "ledger-b" },
        ],
      },
    ],
    ["saga.step.started", debit],
    ["saga.step.succeeded", { ...debit, durationMs: 120 }],
    ["saga.step.started", credit],
    [
      "saga.step.failed",
      {
        ...credit,
        durationMs: 80,
        error: { category: "business", message: "account closed" },
        willRetry: false,
      },
    ],
    ["saga.compensation.started", debit],
    ["saga.compensation.succeeded", { ...debit, durationMs: 60 }],
    [
      "saga.aborted",
      {
        ...base,
        durationMs: 900,
        reason: "credit failed: account closed",
        failedStep: "credit",
        compensated: true,
      },
    ],
  ];
  await publishByHand(
    traceId,
    events.map(([type, data], i) => ({
      type,
      key: sagaId,
      value: JSON.stringify(data),
      time: new Date(t0 + i * 100),
    })),
  );

  await page.goto(`/sagas/${sagaId}`);
  await expect(page.locator("h1 [data-status]")).toHaveText("compensated");
  const bars = page.locator("[data-testid=saga-timeline] li");
  await expect(bars).toHaveCount(3);
  expect(
    await bars.evaluateAll((els) =>
      els.map(
        (e) =>
          `${e.getAttribute("data-kind")}:${e.getAttribute("data-step")}:${e.getAttribute("data-outcome")}`,
      ),
    ),
  ).toEqual(["step:debit:succeeded", "step:credit:failed", "compensation:debit:succeeded"]);
  await expect(page.getByText("account closed").first()).toBeVisible();
  await expect(page.locator("[data-event-type]")).toHaveCount(8);
  await expect(page.getByText(traceId)).toBeVisible();

  // The trace view: the same events, one lane per service, reached from the saga's page.
  await page.getByRole("link", { name: traceId }).click();
  await expect(page).toHaveURL(new RegExp(`/traces/${traceId}$`));
  await expect(page.locator("[data-testid=trace-events] [data-event-type]")).toHaveCount(8);
  await expect(page.locator("[data-testid=trace-lanes] [data-service]")).toHaveCount(3);
  await expect(page.locator('[data-testid=trace-lanes] [data-service="ledger-b"]')).toContainText("credit");
  await expect(page.getByTestId("trace-sagas")).toContainText("outside-transfer");
});

test("a saga published with no trace context is shown under a derived trace id, and its trace opens", async ({
  page,
}) => {
  const sagaId = `untraced-${randomUUID()}`;
  const base = { sagaId, sagaType: "untraced-transfer", mode: "orchestrated" };
  const debit = { ...base, step: "debit", stepIndex: 0, service: "ledger-a" };
  await publishByHand(null, [
    {
      type: "saga.started",
      key: sagaId,
      value: JSON.stringify({ ...base, steps: [{ name: "debit", service: "ledger-a" }] }),
    },
    { type: "saga.step.started", key: sagaId, value: JSON.stringify(debit) },
    { type: "saga.step.succeeded", key: sagaId, value: JSON.stringify({ ...debit, durationMs: 4 }) },
    { type: "saga.completed", key: sagaId, value: JSON.stringify({ ...base, durationMs: 9 }) },
  ]);
  await page.goto(`/sagas/${sagaId}`);
  await expect(page.locator("h1 [data-status]")).toHaveText("completed", { timeout: PIPELINE_ALLOWANCE_MS });
  await expect(page.getByTestId("trace-derived")).toContainText("derived from the saga id");
  await page.getByRole("link", { name: /^[0-9a-f]{32}$/ }).click();
  await expect(page.locator("[data-testid=trace-events] [data-event-type]")).toHaveCount(4);
  await expect(page.getByTestId("trace-sagas")).toContainText("untraced-transfer");
});

test("a fleet saga's timeline matches its stored events, attempt by attempt", async ({ page }) => {
  const pool = new pg.Pool({ connectionString: e2eRun().databaseUrl, max: 1 });
  try {
    // A finished transfer of the demo fleet, so that its events no longer change.
    let sagaId: string | undefined;
    await expect
      .poll(
        async () => {
          const { rows } = await pool.query<{ saga_id: string }>(
            "SELECT saga_id FROM saga_summary WHERE ended_at IS NOT NULL AND saga_type = 'interbank-transfer' ORDER BY ended_at DESC LIMIT 1",
          );
          sagaId = rows[0]?.saga_id;
          return sagaId;
        },
        { timeout: 30_000 },
      )
      .toBeTruthy();
    const { rows } = await pool.query<{ type: string; step: string | null; attempt: number | null }>(
      `SELECT type, step, (data->>'attempt')::int AS attempt FROM saga_event
       WHERE saga_id = $1 ORDER BY kafka_offset`,
      [sagaId],
    );
    const expected = rows
      .filter((r) => r.type.endsWith("step.started") || r.type.endsWith("compensation.started"))
      .map((r) => `${r.type.includes("compensation") ? "compensation" : "step"}:${r.step}:${r.attempt ?? 1}`);
    await page.goto(`/sagas/${encodeURIComponent(sagaId as string)}`);
    const bars = page.locator("[data-testid=saga-timeline] li");
    await expect(bars).toHaveCount(expected.length);
    expect(
      await bars.evaluateAll((els) =>
        els.map(
          (e) =>
            `${e.getAttribute("data-kind")}:${e.getAttribute("data-step")}:${e.getAttribute("data-attempt")}`,
        ),
      ),
    ).toEqual(expected);
    await expect(page.locator("[data-testid=saga-events] [data-event-type]")).toHaveCount(rows.length);
  } finally {
    await pool.end();
  }
});

test("a saga that has not been seen says so plainly", async ({ page }) => {
  await page.goto("/sagas/no-such-saga");
  const alert = page.getByRole("alert").filter({ hasText: "Saga not seen (yet)" });
  await expect(alert).toContainText("no saga no-such-saga has been seen");
});

test("a malformed message is quarantined and shown with its reason and raw bytes", async ({ page }) => {
  const marker = `not-json-${randomUUID()}`;
  await publishByHand(randomBytes(16).toString("hex"), [
    { type: "saga.started", key: "broken", value: marker },
  ]);

  await page.goto("/dead-letters");
  const row = page.locator("[data-dead-letter-id]").filter({ hasText: "value is not JSON" }).first();
  await expect(row).toBeVisible({ timeout: 30_000 });
  await row.locator("summary").click();
  await expect(row).toContainText(marker);
  await expect(row).toContainText("key broken");
});

test("an id reused with another body is quarantined beside the stored event; extension attributes are shown", async ({
  page,
}) => {
  const sagaId = `reused-${randomUUID()}`;
  const id = randomUUID();
  const base = { sagaId, sagaType: "ledger-transfer", mode: "orchestrated" };
  await publishByHand(randomBytes(16).toString("hex"), [
    {
      type: "saga.started",
      key: sagaId,
      id,
      value: JSON.stringify({ ...base, steps: [{ name: "debit", service: "ledger-a" }] }),
      headers: { ce_tenant: "acme", tracestate: "ledger=7" },
    },
    {
      type: "saga.step.started",
      key: sagaId,
      id,
      value: JSON.stringify({ ...base, step: "debit", stepIndex: 0, service: "ledger-a" }),
    },
  ]);

  await page.goto(`/sagas/${sagaId}`);
  const started = page.locator('[data-event-type="io.sagascope.saga.started"]');
  await started.locator("summary").click();
  await expect(started.getByTestId("event-extensions")).toContainText('"tenant": "acme"');
  await expect(started.getByTestId("event-extensions")).toContainText('"tracestate": "ledger=7"');
  await expect(page.locator("[data-event-type]")).toHaveCount(1);

  await page.goto("/dead-letters");
  const row = page.locator("[data-dead-letter-id]").filter({ hasText: id }).first();
  await expect(row).toContainText("duplicate id with a different body");
  await expect(row.getByTestId("collision-stored")).toContainText('"steps"');
  await expect(row.getByTestId("collision-refused")).toContainText('"stepIndex": 0');
});

test("a saga whose participant never answers is reported stuck, with what it waits for", async ({ page }) => {
  const STEP_TIMEOUT_MS = 300;
  const sagaId = `stuck-${randomUUID()}`;
  const base = { sagaId, sagaType: "stuck-transfer", mode: "orchestrated" };
  await publishByHand(randomBytes(16).toString("hex"), [
    {
      type: "saga.started",
      key: sagaId,
      value: JSON.stringify({ ...base, steps: [{ name: "debit", service: "ledger-a" }] }),
    },
    {
      type: "saga.step.started",
      key: sagaId,
      value: JSON.stringify({
        ...base,
        step: "debit",
        stepIndex: 0,
        service: "ledger-a",
        attempt: 1,
        timeoutMs: STEP_TIMEOUT_MS,
      }),
    },
  ]);

  await page.goto(`/sagas/${sagaId}`);
  await expect(page.getByTestId("saga-id")).toHaveText(sagaId);
  // No reload: the stuck mark arrives live once the attempt's timeout and the grace have passed.
  await expect(page.getByTestId("stuck-reason")).toContainText(
    "expected step debit (ledger-a, attempt 1) to finish within 300 ms",
    {
      timeout: STEP_TIMEOUT_MS + E2E_FLEET.stuckGraceMs + 2 * E2E_FLEET.stuckSweepMs + PIPELINE_ALLOWANCE_MS,
    },
  );
  await page.goto("/sagas");
  await page.getByLabel("stuck only").check();
  await expect(page.locator(`[data-saga-id="${sagaId}"]`)).toBeVisible();
  await expect(page.locator("[data-saga-id] .badge-stuck").first()).toBeVisible();
});
