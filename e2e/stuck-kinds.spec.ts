// Why a saga is stuck, as the operator reads it: sagas published by hand that wait on each
// kind of thing (a participant past its timeout, nothing announced, retries that keep failing,
// an open breaker) are marked stuck with their kind, filtered by it, and counted by kind on
// the overview; a saga whose compensation was given up is counted as needing an operator.
import { randomBytes, randomUUID } from "node:crypto";
import { expect, test } from "@playwright/test";
import { E2E_FLEET, PIPELINE_ALLOWANCE_MS } from "./fixtures/e2e-env.ts";
import { publishByHand } from "./fixtures/publish-by-hand.ts";

const sagaType = `stuck-kinds-${randomUUID().slice(0, 8)}`;
const STEP = { step: "post", stepIndex: 0, service: "ledger" };

/** One saga: its start, then the events that leave it waiting on `kind`. */
function saga(kind: string, then: { type: string; data: Record<string, unknown> }[]) {
  const sagaId = `${sagaType}-${kind}`;
  const base = { sagaId, sagaType, mode: "orchestrated" };
  return {
    sagaId,
    events: [
      {
        type: "saga.started",
        key: sagaId,
        value: JSON.stringify({ ...base, steps: [{ name: "post", service: "ledger" }] }),
      },
      ...then.map((e) => ({ type: e.type, key: sagaId, value: JSON.stringify({ ...base, ...e.data }) })),
    ],
  };
}

const failure = (attempt: number, code?: string) => ({
  type: "saga.step.failed",
  data: {
    ...STEP,
    attempt,
    durationMs: 3,
    willRetry: true,
    error: { category: "transient", message: "ledger did not answer", ...(code ? { code } : {}) },
  },
});

const SAGAS = {
  participant: saga("participant", [
    { type: "saga.step.started", data: { ...STEP, attempt: 1, timeoutMs: 300 } },
  ]),
  silent: saga("silent", [{ type: "saga.step.succeeded", data: { ...STEP, attempt: 1, durationMs: 4 } }]),
  retrying: saga("retrying", [failure(3)]),
  breaker: saga("breaker", [failure(1, "BREAKER_OPEN")]),
  operator: saga("operator", [
    { type: "saga.aborted", data: { durationMs: 9, reason: "the refund was refused", compensated: false } },
  ]),
};

test("a stuck saga says what it waits on; the list filters by it and the overview counts each kind", async ({
  page,
}) => {
  test.setTimeout(90_000);
  for (const s of Object.values(SAGAS)) await publishByHand(randomBytes(16).toString("hex"), s.events);

  // Every unfinished one is marked stuck after its deadline and the grace, with its kind.
  await page.goto(`/sagas?type=${sagaType}&stuck=1`);
  const badges = page.getByTestId("stuck-badge");
  await expect(badges).toHaveCount(4, {
    timeout: 300 + E2E_FLEET.stuckGraceMs + 2 * E2E_FLEET.stuckSweepMs + PIPELINE_ALLOWANCE_MS,
  });
  for (const kind of ["participant", "silent", "retrying", "breaker"]) {
    const row = page.locator(`tr[data-saga-id="${SAGAS[kind as keyof typeof SAGAS].sagaId}"]`);
    await expect(row.getByTestId("stuck-badge")).toHaveAttribute("data-waiting", kind);
  }
  await expect(page.locator(`tr[data-saga-id="${SAGAS.breaker.sagaId}"]`)).toContainText(
    "stuck · behind an open breaker",
  );

  // The list narrows to one kind, and keeps it in the URL.
  await page.getByLabel("Waiting on").selectOption("retrying");
  await expect(page).toHaveURL(/waiting=retrying/);
  await expect(page.locator("tr[data-saga-id]")).toHaveCount(1);
  await expect(page.locator(`tr[data-saga-id="${SAGAS.retrying.sagaId}"]`)).toBeVisible();

  // The overview counts each kind; the given-up compensation is one for an operator.
  await page.goto("/overview");
  const kinds = page.getByTestId("overview-waiting");
  for (const kind of ["participant", "silent", "retrying", "breaker", "operator"])
    await expect(kinds.locator(`li[data-kind="${kind}"]`)).toBeVisible();
  await kinds.locator('li[data-kind="operator"] a').click();
  await expect(page).toHaveURL(/\/sagas\?waiting=operator$/);
  await page.locator(`tr[data-saga-id="${SAGAS.operator.sagaId}"] a.saga-link`).click();
  await expect(page.getByTestId("needs-operator")).toContainText("a compensation was given up");
});
