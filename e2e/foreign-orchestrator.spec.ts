// An orchestrator of another runtime, published by hand as any service would: one whose start
// declared the commands it answers is offered only those, and its page says why not the rest;
// one that declared nothing is sent a pause it never answers, and at the deadline (15 s in the
// suite) the page and the audit log say the command failed, and why.
import { randomBytes, randomUUID } from "node:crypto";
import { expect, test } from "@playwright/test";
import { E2E_FLEET, PIPELINE_ALLOWANCE_MS } from "./fixtures/e2e-env.ts";
import { publishByHand } from "./fixtures/publish-by-hand.ts";

const ANSWER_DEADLINE_MS = E2E_FLEET.choreographyAnswerMs;

/** A saga of an outside orchestrator waiting on its first step, as its own runtime published it. */
async function outsideSaga(controls?: string[]) {
  const sagaId = `outside-orch-${randomUUID()}`;
  const base = { sagaId, sagaType: "outside-onboarding", mode: "orchestrated" };
  await publishByHand(randomBytes(16).toString("hex"), [
    {
      type: "saga.started",
      key: sagaId,
      value: JSON.stringify({
        ...base,
        steps: [
          { name: "open-account", service: "core-banking" },
          { name: "send-card", service: "cards" },
        ],
        ...(controls ? { controls } : {}),
      }),
    },
    {
      type: "saga.step.started",
      key: sagaId,
      value: JSON.stringify({ ...base, step: "open-account", stepIndex: 0, service: "core-banking" }),
    },
  ]);
  return sagaId;
}

test("an orchestrated saga is offered only the commands its runtime declared, and says why not the rest", async ({
  page,
}) => {
  const sagaId = await outsideSaga(["compensate", "retry-step", "mark-resolved"]);
  await page.goto(`/sagas/${encodeURIComponent(sagaId)}`);
  const actions = page.getByTestId("saga-actions");
  const pause = actions.getByRole("button", { name: "Pause" });
  await expect(pause).toBeDisabled();
  await expect(pause).toHaveAttribute(
    "title",
    "the saga's runtime does not answer pause: it answers compensate, retry-step, mark-resolved, as its start declared",
  );
  await expect(actions.getByRole("button", { name: "Retry from step…" })).toBeDisabled();
  await expect(actions.getByRole("button", { name: "Compensate now" })).toBeEnabled();
});

test("a pause its orchestrator never answers fails at the deadline, saying why", async ({ page }) => {
  test.setTimeout(ANSWER_DEADLINE_MS + 60_000);
  const sagaId = await outsideSaga();
  await page.goto(`/sagas/${encodeURIComponent(sagaId)}`);
  await page.getByTestId("saga-actions").getByRole("button", { name: "Pause" }).click();
  const dialog = page.getByRole("dialog", { name: "Pause" });
  await dialog.getByRole("button", { name: "Pause" }).click();
  const result = page.getByTestId("action-result");
  await expect(result).toHaveAttribute("data-phase", "pending");
  await expect(result).toHaveAttribute("data-phase", "failed", {
    timeout: ANSWER_DEADLINE_MS + 1000 + PIPELINE_ALLOWANCE_MS,
  });
  await expect(result).toContainText(
    `no answer from the saga's orchestrator within ${ANSWER_DEADLINE_MS / 1000} s: it may be down (it acts on the command when back), or its runtime does not answer pause`,
  );

  await page.goto(`/audit?action=saga.pause&target=${encodeURIComponent(sagaId)}`);
  const row = page.locator('tr[data-action="saga.pause"]');
  for (const phase of ["requested", "pending", "failed"])
    await expect(row.locator(`li[data-phase="${phase}"]`)).toBeVisible();
});
