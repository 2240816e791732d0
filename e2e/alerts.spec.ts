// Alerts as an admin sets them up and an on-call engineer receives them: a rule defined on the
// alerts page for one breaker pair fires when the pair opens (one message to the suite's
// webhook, the page listing it with a link to the pair) and resolves once it has been closed
// for the rule's hold time (one more message). An operator cannot define rules. The rule is
// deleted in the teardown.
import { randomUUID } from "node:crypto";
import { Kafka, logLevel, type Producer } from "kafkajs";
import { breakerEvent, encodeBreakerEvent, topics } from "../server/events/index.ts";
import { E2E_WEBHOOK_URL, e2eRun, PIPELINE_ALLOWANCE_MS } from "./fixtures/e2e-env.ts";
import { expect, test } from "./fixtures/fleet.ts";
import { mutate, signInAs } from "./fixtures/operators.ts";

const ruleId = `e2e-ledger-${randomUUID().slice(0, 6)}`;
const callee = `ledger-${randomUUID().slice(0, 8)}`;
const pair = `payments→${callee}`;
let producer: Producer;

test.beforeAll(async () => {
  producer = new Kafka({
    clientId: "alerts-e2e",
    brokers: e2eRun().kafkaBrokers,
    logLevel: logLevel.NOTHING,
  }).producer();
  await producer.connect();
});

test.afterAll(async ({ browser }) => {
  const page = await browser.newPage();
  await signInAs(page, "admin");
  await mutate(page.request, "alerts.rule", { op: "delete", id: ruleId, idempotencyKey: randomUUID() });
  await page.close();
  await producer?.disconnect();
});

const change = (from: "closed" | "open", to: "closed" | "open") =>
  producer.send({
    topic: topics(e2eRun().topicPrefix).breakerEvents,
    messages: [
      encodeBreakerEvent(
        breakerEvent(
          "io.sagascope.breaker.state_changed",
          {
            pair,
            caller: "payments",
            callee,
            instance: "payments-1",
            from,
            to,
            forced: null,
            reason: "e2e",
            calls: 6,
            failures: 5,
            failureRateThreshold: 0.5,
            minimumCalls: 4,
          },
          { source: "/e2e/payments" },
        ),
      ),
    ],
  });

const messagesForRule = async () => {
  const all = (await (await fetch(`${E2E_WEBHOOK_URL}/received`)).json()) as {
    body: { rule?: string; status?: string };
  }[];
  return all.filter((m) => m.body.rule === ruleId).map((m) => m.body.status);
};

test("an admin's rule fires once when the pair opens and resolves once when it has been closed for the hold", async ({
  page,
}) => {
  await signInAs(page, "admin");
  await page.goto("/alerts");
  await page.getByText("Define an alert rule").click();
  const form = page.getByTestId("define-alert-rule");
  await form.getByLabel("Id").fill(ruleId);
  await form.getByLabel("Watches").selectOption("breaker_open");
  await form.getByLabel("Only this pair").fill(pair);
  await form.getByLabel("Resolves after (s)").fill("2");
  await form.getByLabel("Severity").selectOption("critical");
  await form.getByRole("button", { name: "Define" }).click();
  await expect(form.getByTestId("action-result")).toContainText(`${ruleId} defined: breaker open, critical`);
  await expect(page.locator(`tr[data-rule="${ruleId}"]`)).toContainText("dashboard");

  await change("closed", "open");
  const alert = page.locator(`tr[data-alert="${ruleId}/${pair}"]`);
  await expect(alert).toHaveAttribute("data-state", "firing", { timeout: PIPELINE_ALLOWANCE_MS + 2000 });
  await expect(alert.getByRole("link", { name: pair })).toHaveAttribute(
    "href",
    `/breakers?pair=${encodeURIComponent(pair)}`,
  );
  await expect.poll(messagesForRule, { timeout: PIPELINE_ALLOWANCE_MS }).toEqual(["firing"]);
  await expect(page.locator(`tr[data-delivery="${ruleId}/${pair}/firing/e2e"]`)).toHaveAttribute(
    "data-status",
    "sent",
  );

  await change("open", "closed");
  await expect(page.getByTestId("resolved-alerts").locator(`tr[data-alert="${ruleId}/${pair}"]`)).toBeVisible(
    {
      timeout: PIPELINE_ALLOWANCE_MS + 4000,
    },
  );
  await expect.poll(messagesForRule, { timeout: PIPELINE_ALLOWANCE_MS }).toEqual(["firing", "resolved"]);
  // Nothing more while it stays closed.
  await page.waitForTimeout(2000);
  expect(await messagesForRule()).toEqual(["firing", "resolved"]);
});

test("an operator can silence but not define rules; the refusal is audited", async ({ page }) => {
  const { email } = await signInAs(page, "operator");
  await page.goto("/alerts");
  await expect(page.getByTestId("alert-rules")).toBeVisible();
  await expect(page.getByTestId("define-alert-rule")).toHaveCount(0);
  const refused = await mutate(page.request, "alerts.rule", {
    op: "define",
    rule: { id: `${ruleId}-x`, kind: "breaker_open", params: {} },
    idempotencyKey: randomUUID(),
  });
  expect(refused.status).toBe(403);
  await page.goto(`/audit?actor=${encodeURIComponent(email)}`);
  await expect(page.getByText("alerts.define").first()).toBeVisible();
});
