// A command to a choreographed saga always gets an answer: a saga published by an outside
// service whose participants have nothing parked is asked to retry its step from its page;
// no participant answers, and at the deadline (15 s in the suite) the page says why it was
// refused, as the audit log does.
import { randomBytes, randomUUID } from "node:crypto";
import { expect, test } from "@playwright/test";
import { E2E_FLEET, PIPELINE_ALLOWANCE_MS } from "./fixtures/e2e-env.ts";
import { publishByHand } from "./fixtures/publish-by-hand.ts";

const ANSWER_DEADLINE_MS = E2E_FLEET.choreographyAnswerMs;

test("a choreographed saga's retry that no participant can act on is refused at its deadline, saying why", async ({
  page,
}) => {
  test.setTimeout(ANSWER_DEADLINE_MS + 60_000);
  const sagaId = `choreo-${randomUUID()}`;
  const base = { sagaId, sagaType: "outside-checkout", mode: "choreographed" };
  await publishByHand(randomBytes(16).toString("hex"), [
    {
      type: "saga.started",
      key: sagaId,
      value: JSON.stringify({ ...base, steps: [{ name: "reserve", service: "outside-stock" }] }),
    },
    {
      type: "saga.step.started",
      key: sagaId,
      value: JSON.stringify({ ...base, step: "reserve", stepIndex: 0, service: "outside-stock", attempt: 1 }),
    },
  ]);
  await page.goto(`/sagas/${sagaId}`);
  await page.getByRole("button", { name: "Retry the failed step" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Retry" }).click();
  const result = page.getByTestId("action-result");
  await expect(result).toHaveAttribute("data-phase", "pending");
  await expect(result).toHaveAttribute("data-phase", "refused", {
    timeout: ANSWER_DEADLINE_MS + 1000 + PIPELINE_ALLOWANCE_MS,
  });
  await expect(result).toContainText("nothing to retry: no participant had a parked message of this saga");

  await page.goto(`/audit?action=saga.retry-step&target=${encodeURIComponent(sagaId)}`);
  const row = page.locator('tr[data-action="saga.retry-step"]');
  for (const phase of ["requested", "pending", "refused"])
    await expect(row.locator(`li[data-phase="${phase}"]`)).toBeVisible();
});
