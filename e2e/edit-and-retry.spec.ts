// Edit then retry, as an admin does it from a saga's page: a payment saga of a type of the
// spec's own, run by a durable orchestrator of its own (in this process, on the run's Kafka
// and fleet database), fails its charge again and again (over the limit) and waits a minute
// between tries. The admin edits its input: not JSON is caught in the dialog, an input that
// does not fit the saga's schema is refused by the orchestrator with the reason, a lower
// amount is retried at once and the saga completes with it. The page keeps the original and
// the edit (and the timeline marks it); the audit log keeps both. An operator is not offered
// the edit. The orchestrator is stopped afterwards, on failure too.
import { randomUUID } from "node:crypto";
import { Kafka, logLevel } from "kafkajs";
import { z } from "zod";
import { createPool } from "../server/db/pool.ts";
import { topics } from "../server/events/index.ts";
import { createLogger } from "../server/log.ts";
import { defineSaga } from "../server/sagas/definition.ts";
import { createDurableOrchestrator } from "../server/sagas/durable/durable-orchestrator.ts";
import { StepFailure } from "../server/sagas/step-failure.ts";
import { e2eRun, PIPELINE_ALLOWANCE_MS } from "./fixtures/e2e-env.ts";
import { expect, test } from "./fixtures/fleet.ts";
import { signInAs } from "./fixtures/operators.ts";

const run = randomUUID().slice(0, 8);
const LIMIT = 100;
const payment = defineSaga<{ amount: number }>({
  type: `edit-e2e-${run}`,
  input: z.object({ amount: z.number().int().positive() }).strict(),
  // The charge refuses before it takes anything, so its amount may change after a failed try.
  editableOnceLanded: ["amount"],
  steps: [
    {
      name: "charge",
      service: "payments-e2e",
      timeoutMs: 1000,
      // A minute between tries: only an operator's retry moves it on within the spec.
      retry: { attempts: 5, backoffMs: 60_000 },
      action: async ({ input }) => {
        if (input.amount > LIMIT)
          throw new StepFailure("transient", `amount ${input.amount} is over the limit`);
        return { charged: input.amount };
      },
    },
  ],
  compensationRetry: { attempts: 2, backoffMs: 10 },
});

test("an admin edits a failing saga's input and retries it; the original and the edit are both kept", async ({
  page,
  browser,
  fleet,
}) => {
  test.setTimeout(120_000);
  const { kafkaBrokers, topicPrefix } = e2eRun();
  const fleetUrl = JSON.parse(process.env.E2E_FLEET_ENV ?? "{}").FLEET_DATABASE_URL as string;
  const kafka = new Kafka({ clientId: `edit-e2e-${run}`, brokers: kafkaBrokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  const pool = createPool(fleetUrl, 4);
  const orchestrator = createDurableOrchestrator({
    pool,
    databaseUrl: fleetUrl,
    schema: `edit_e2e_${run}`,
    definition: payment,
    source: "/e2e/payments",
    owner: `edit-e2e-${run}`,
    producer,
    kafka,
    topics: topics(topicPrefix),
    log: createLogger("edit-e2e", "error"),
  });
  try {
    await producer.connect();
    await orchestrator.start();
    const sagaId = `pay-${run}`;
    await orchestrator.startSaga({ sagaId, input: { amount: 250 } });
    await expect
      .poll(
        async () =>
          (
            await fleet.store.query(
              "SELECT count(*)::int AS n FROM saga_event WHERE saga_id = $1 AND type = 'io.sagascope.saga.step.failed'",
              [sagaId],
            )
          ).rows[0].n,
        { timeout: PIPELINE_ALLOWANCE_MS + 10_000 },
      )
      .toBe(1);

    // An operator (the demo operator here) may retry, but not edit.
    await page.goto(`/sagas/${encodeURIComponent(sagaId)}`);
    await expect(page.getByRole("button", { name: "Retry the failed step" })).toBeEnabled();
    await expect(page.getByRole("button", { name: "Edit input and retry…" })).toHaveCount(0);

    const admin = await browser.newPage();
    await signInAs(admin, "admin");
    await admin.goto(`/sagas/${encodeURIComponent(sagaId)}`);
    const edit = admin.getByRole("button", { name: "Edit input and retry…" });
    const dialog = admin.getByRole("dialog", { name: "Edit input and retry" });
    const json = dialog.getByLabel("Input (JSON)");
    const confirm = dialog.getByRole("button", { name: "Retry with this input" });
    const result = admin.getByTestId("action-result");

    await edit.click();
    await expect(json).toHaveValue(JSON.stringify({ amount: 250 }, null, 2));
    await json.fill('{ "amount": 50');
    await expect(dialog.getByTestId("input-problem")).toContainText("not JSON");
    await expect(confirm).toBeDisabled();
    // JSON, but not what the saga takes: its orchestrator refuses it and says why.
    await json.fill('{ "amount": "fifty" }');
    await confirm.click();
    await expect(result).toHaveAttribute("data-phase", "refused", { timeout: PIPELINE_ALLOWANCE_MS });
    await expect(result).toContainText("does not fit");
    await expect(result).toContainText("amount");

    await edit.click();
    await json.fill(JSON.stringify({ amount: 50 }));
    await dialog.getByLabel(/Reason/).fill("customer lowered the order");
    await confirm.click();
    await expect(result).toHaveAttribute("data-phase", "done", { timeout: PIPELINE_ALLOWANCE_MS });
    await expect(result).toContainText("with the edited input");
    await expect(admin.locator("h1 [data-status]")).toHaveText("completed", {
      timeout: PIPELINE_ALLOWANCE_MS,
    });

    const edits = admin.getByTestId("input-edits");
    await edits.locator("summary").click();
    await expect(edits).toContainText('"amount": 250');
    await expect(edits).toContainText('"amount": 50');
    await expect(edits).toContainText("Edited by");
    await expect(admin.locator('[data-testid="saga-timeline"] [data-kind="input-edit"]')).toHaveCount(1);

    const audit = await fleet.store.query<{ phase: string; params: Record<string, unknown> }>(
      "SELECT phase, params FROM audit_entry WHERE action = 'saga.retry-edited' AND target = $1 ORDER BY id",
      [sagaId],
    );
    const requested = audit.rows.filter((r) => r.phase === "requested");
    expect(requested.map((r) => r.params.input)).toEqual([{ amount: "fifty" }, { amount: 50 }]);
    expect(requested.map((r) => r.params.replacedInput)).toEqual([{ amount: 250 }, { amount: 250 }]);
    expect(audit.rows.map((r) => r.phase)).toEqual(expect.arrayContaining(["refused", "done"]));
    await admin.close();
  } finally {
    await orchestrator.stop();
    await producer.disconnect();
    await pool.end();
  }
});
