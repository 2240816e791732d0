// The service map against the real fleet: transfers, bank-a and bank-b appear with the gRPC
// calls between them; bank B starts failing (fault injection) and the transfers→bank-b edge
// turns open and red without a reload; bank B recovers and the edge closes again. A breaker
// edge, reached by keyboard, opens its pair on the breakers page; a service opens its sagas.
import { e2eRun } from "./fixtures/e2e-env.ts";
import { expect, test } from "./fixtures/fleet.ts";
import { GREEN, PAIR, QUICK_BREAKER, RED } from "./fixtures/quick-breaker.ts";

test("a failing callee turns its edge open live, recovery closes it, and the map leads to its pages", async ({
  page,
  fleet,
}) => {
  test.setTimeout(150_000);
  const { topicPrefix } = e2eRun();
  await fleet.tuneBreaker(PAIR, QUICK_BREAKER);
  await page.goto("/service-map");
  const map = page.getByTestId("service-map");
  for (const service of ["transfers", "bank-a", "bank-b"])
    await expect(map.locator(`[data-node="service:${service}"]`)).toBeVisible({ timeout: 60_000 });
  const edge = map.getByTestId("map-edge").and(map.locator(`[data-edge="grpc:${PAIR}"]`));
  const line = edge.getByTestId("map-edge-line");
  await expect(edge).toHaveAttribute("data-state", "closed", { timeout: 60_000 });
  await expect(edge).toHaveAttribute("data-from", "service:transfers");
  await expect(edge).toHaveAttribute("data-to", "service:bank-b");
  await expect(line).toHaveCSS("stroke", GREEN);
  await expect(map.locator(`[data-testid="map-edge"][data-edge="grpc:transfers→bank-a"]`)).toHaveAttribute(
    "data-state",
    "closed",
  );
  // The orchestrator's saga events reach the ingester through the saga events topic.
  await expect(
    map.locator(
      `[data-testid="map-edge"][data-edge="consumes:topic:${topicPrefix}sagascope.saga-events>sagascope:ingester"]`,
    ),
  ).toHaveAttribute("data-observed", "true");
  await expect(page.getByTestId("live-indicator")).toHaveText(/live/);
  const loads: string[] = [];
  page.on("load", () => loads.push(page.url()));

  await fleet.setFaults("bank-b", { errorRate: 1 });
  await expect(edge).toHaveAttribute("data-state", "open", { timeout: 60_000 });
  await expect(line).toHaveCSS("stroke", RED);
  await expect(edge).toHaveAccessibleName(/^transfers → bank-b over gRPC: breaker open/);
  await expect(page.locator(`[data-testid="map-edge-label"][data-edge="grpc:${PAIR}"]`)).toContainText(
    /^open · /,
  );

  await fleet.setFaults("bank-b", { clear: true });
  await expect(edge).toHaveAttribute("data-state", "closed", { timeout: 60_000 });
  await expect(line).toHaveCSS("stroke", GREEN);
  expect(loads).toEqual([]);

  // By keyboard: the edge takes focus and Enter opens its pair on the breakers page.
  await edge.focus();
  await expect(edge).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/breakers\?pair=transfers%E2%86%92bank-b/);
  await expect(page.getByTestId("breaker-detail")).toHaveAttribute("data-pair", PAIR);

  await page.goBack();
  await map.locator('[data-node="service:bank-b"]').click();
  await expect(page).toHaveURL(/\/sagas\?service=bank-b/);
});
