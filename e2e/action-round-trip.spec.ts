// The action round trip as an operator lives it: from the click that confirms an action to
// its result shown on the page, over many actions against the real fleet. Prints p50/p99
// (and writes them to test-results/action-round-trip.json); `npm run bench:actions` runs more.
import { writeFileSync } from "node:fs";
import { expect, test } from "./fixtures/fleet.ts";
import { percentile } from "./fixtures/percentiles.ts";

const ROUNDS = Number(process.env.SAGASCOPE_BENCH_ACTIONS ?? 5);

/**
 * How long the spec looks for sagas to act on. A transfer is running for about 1.5 s once it
 * reaches its slow credit, and on a busy machine the page often opens after it has ended:
 * that saga is passed over and the next one taken, so the spec counts measured actions, not
 * attempts, within this time.
 */
const LOOKING_MS = 60_000 + ROUNDS * 10_000;

test("saga actions: from the confirming click to the owner's answer shown", async ({ page, fleet }) => {
  test.setTimeout(60_000 + LOOKING_MS + ROUNDS * 20_000);
  const { store } = fleet;
  const sagaTimes: number[] = [];
  const overrideTimes: number[] = [];
  // Slow credits keep transfers running long enough to act on them.
  await fleet.setFaults("bank-b", { latencyMs: 1500 });
  const lookUntil = Date.now() + LOOKING_MS;
  let passedOver = 0;
  while (sagaTimes.length < ROUNDS && Date.now() < lookUntil) {
    let sagaId: string | undefined;
    await expect
      .poll(
        async () => {
          const { rows } = await store.query<{ saga_id: string }>(
            `SELECT saga_id FROM saga_summary WHERE status = 'running' AND saga_type = 'interbank-transfer'
             AND current_step = 'credit' ORDER BY started_at DESC LIMIT 1`,
          );
          sagaId = rows[0]?.saga_id;
          return sagaId;
        },
        { timeout: 20_000, intervals: [100] },
      )
      .toBeTruthy();
    await page.goto(`/sagas/${encodeURIComponent(sagaId as string)}`);
    const retry = page.getByRole("button", { name: "Retry the failed step" });
    await expect(retry).toBeVisible();
    if (await retry.isDisabled()) {
      passedOver += 1; // it ended meanwhile
      continue;
    }
    // The saga may end between the look and the click: the button is disabled then, and the
    // click would wait for it forever.
    try {
      await retry.click({ timeout: 5_000 });
    } catch (error) {
      if (!(await retry.isDisabled())) throw error;
      passedOver += 1;
      continue;
    }
    // The saga may end as the click lands: the button is disabled then and no dialog opens.
    const dialog = page.getByRole("dialog");
    await expect(
      dialog.or(page.getByRole("button", { name: "Retry the failed step", disabled: true })).first(),
    ).toBeVisible();
    if (!(await dialog.isVisible())) {
      passedOver += 1;
      continue;
    }
    const confirm = dialog.getByRole("button", { name: "Retry" });
    const began = Date.now();
    await confirm.click();
    await expect(page.getByTestId("action-result")).toHaveAttribute("data-phase", /done|refused/, {
      timeout: 15_000,
    });
    sagaTimes.push(Date.now() - began);
  }
  // Breaker overrides: written to Redis by the dashboard itself, then shown.
  fleet.restoreLater({ breaker: "transfers→bank-a" });
  await page.goto("/breakers?pair=transfers%E2%86%92bank-a");
  await expect(page.getByTestId("breaker-actions")).toBeVisible({ timeout: 20_000 });
  for (let i = 0; i < ROUNDS; i++) {
    const reset = page.getByRole("button", { name: /reset/i }).first();
    const result = page.locator("[data-testid=breaker-actions] [data-testid=action-result]");
    const before = (await result.count()) ? await result.getAttribute("data-action-id") : null;
    await reset.click();
    const began = Date.now();
    await page.getByRole("dialog").getByRole("button", { name: /reset/i }).click();
    await expect(result).toHaveAttribute("data-phase", "done", { timeout: 15_000 });
    await expect(result).not.toHaveAttribute("data-action-id", before ?? "none");
    overrideTimes.push(Date.now() - began);
  }
  expect(sagaTimes.length).toBeGreaterThan(0);
  const figures = {
    sagaActions: {
      n: sagaTimes.length,
      passedOver,
      p50: percentile(sagaTimes, 50),
      p99: percentile(sagaTimes, 99),
      max: Math.max(...sagaTimes),
    },
    breakerResets: overrideTimes.length
      ? {
          n: overrideTimes.length,
          p50: percentile(overrideTimes, 50),
          p99: percentile(overrideTimes, 99),
          max: Math.max(...overrideTimes),
        }
      : null,
  };
  console.log(`action round trip (click → result shown, ms): ${JSON.stringify(figures)}`);
  writeFileSync("test-results/action-round-trip.json", JSON.stringify(figures, null, 2));
});
