// The dashboard as monitoring sees it, over HTTP: /healthz and /readyz for probes, /metrics
// for Prometheus (open in demo mode; behind a bearer token when one is configured, every
// refusal audited), against the run's real Postgres, Redis and Kafka.
import { E2E_BASE_URL, PIPELINE_ALLOWANCE_MS } from "./fixtures/e2e-env.ts";
import { expect, test } from "./fixtures/fleet.ts";

const TOKEN = "e2e-metrics-token-0123456789";

test("probes: alive, and ready with each dependency's state", async ({ request }) => {
  const health = await request.get(`${E2E_BASE_URL}/healthz`);
  expect(health.status()).toBe(200);
  expect(await health.json()).toMatchObject({ status: "alive", role: "web" });
  const ready = await request.get(`${E2E_BASE_URL}/readyz`);
  expect(ready.status()).toBe(200);
  expect(await ready.json()).toMatchObject({
    status: "ready",
    checks: { postgres: { ok: true }, redis: { ok: true }, kafka: { ok: true } },
  });
});

test("in demo mode /metrics is open and has the fleet's figures", async ({ request }) => {
  const scrape = async () => {
    const response = await request.get(`${E2E_BASE_URL}/metrics`);
    expect(response.status()).toBe(200);
    expect(response.headers()["content-type"]).toContain("text/plain");
    return response.text();
  };
  // The transfers' breaker pair exists once the fleet has made its first call.
  await expect
    .poll(scrape, { timeout: PIPELINE_ALLOWANCE_MS })
    .toMatch(
      /^sagascope_circuitbreaker_state\{pair="transfers→bank-b",caller="transfers",callee="bank-b",state="closed",role="web"\} [01]$/m,
    );
  const text = await scrape();
  expect(text).toContain("# TYPE sagascope_sagas_in_flight gauge");
  expect(text).toMatch(/^process_resident_memory_bytes\{role="web"\} \d+/m);
  for (const source of ["postgres", "redis", "kafka"])
    expect(text).toMatch(
      new RegExp(`^sagascope_scrape_source_up\\{source="${source}",role="web"\\} 1$`, "m"),
    );
});

test("with a token configured, /metrics answers only to it, and each refusal is audited", async ({
  fleet,
  request,
}) => {
  const web = await fleet.startOwnWeb({ SAGASCOPE_MODE: "production", SAGASCOPE_METRICS_TOKEN: TOKEN });
  const before = new Date();
  const none = await request.get(`${web.url}/metrics`);
  expect(none.status()).toBe(401);
  expect(await none.text()).toContain("Authorization: Bearer <SAGASCOPE_METRICS_TOKEN>");
  const wrong = await request.get(`${web.url}/metrics`, {
    headers: { authorization: "Bearer not-the-token-at-all" },
  });
  expect(wrong.status()).toBe(401);
  const right = await request.get(`${web.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(right.status()).toBe(200);
  expect(await right.text()).toContain("sagascope_sagas_in_flight");
  // Audited once a minute at most: the first refusal is on record.
  const { rows } = await fleet.store.query(
    "SELECT actor, phase, message FROM audit_entry WHERE action = 'metrics.read' AND at >= $1",
    [before],
  );
  expect(rows).toEqual([{ actor: "anonymous", phase: "denied", message: "no or wrong bearer token" }]);
});
