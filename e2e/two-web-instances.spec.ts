// Two dashboards behind one address: a round-robin proxy started here sends each request to
// the other instance. A user signs in and acts in Chromium through it, so that every step
// crosses instances: the session, an action and its status, the sign-in throttle's counts and
// a live feed all hold, because each lives in Postgres (or a sealed cookie), not in a process.
import { randomUUID } from "node:crypto";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { E2E_ADMIN } from "./fixtures/e2e-env.ts";
import { expect, test } from "./fixtures/fleet.ts";

let proxy: Server | undefined;

// A failure here on a loaded machine once left no clue; its trace shows every step's timing.
test.use({ trace: "retain-on-failure" });

test.afterAll(async () => {
  await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)));
});

/** Forwards each request to the next instance in turn; counts what each served. */
async function roundRobin(targets: string[]) {
  const served = targets.map(() => 0);
  let next = 0;
  const server = createServer((req, res) => {
    const i = next++ % targets.length;
    served[i] = (served[i] ?? 0) + 1;
    const target = new URL(targets[i] as string);
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  proxy = server;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, served };
}

test("two web instances behind one address share sessions, actions, throttles and live updates", async ({
  browser,
  fleet,
}) => {
  test.setTimeout(150_000);
  const settings = { SAGASCOPE_MODE: "production", SAGASCOPE_COOKIE_SECURE: "off" };
  const [a, b] = await test.step("start two production instances", async () => [
    await fleet.startOwnWeb(settings),
    await fleet.startOwnWeb(settings),
  ]);
  const front = await roundRobin([a.url, b.url]);
  const context = await browser.newContext({ baseURL: front.url });
  try {
    const page = await context.newPage();
    await page.goto("/sign-in");
    await page.getByLabel("Email").fill(E2E_ADMIN.email);
    await page.getByLabel("Password").fill(E2E_ADMIN.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/overview$/);
    await expect(page.getByTestId("user-badge")).toHaveAttribute("data-role", "admin");
    // The session one instance sealed is the other's too.
    const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
    for (const instance of [a, b]) {
      const me = await fetch(`${instance.url}/api/trpc/auth.me`, { headers: { cookie } });
      expect(JSON.stringify(await me.json())).toContain(`"email":"${E2E_ADMIN.email}"`);
    }

    // An action sent through one instance, its list and audit read through the other.
    const email = `two-instances-${randomUUID().slice(0, 8)}@e2e.test`;
    await page.goto("/users");
    const form = page.getByRole("form", { name: "Add a user" });
    await form.getByLabel("Email").fill(email);
    await form.getByLabel("Name").fill("Made across instances");
    await form.getByLabel("Password (12 characters at least)").fill("a-long-enough-password");
    await form.getByRole("button", { name: "Add user" }).click();
    await expect(form.getByTestId("action-result")).toHaveAttribute("data-phase", "done");
    await expect(page.locator(`tr[data-email="${email}"]`)).toBeVisible();
    await page.goto(`/audit?target=${encodeURIComponent(email)}`);
    await expect(page.getByText("users.create").first()).toBeVisible();

    // Guesses spread over both instances are counted together: ten free, then slowed.
    const guesses: number[] = [];
    for (let i = 0; i < 11; i++)
      guesses.push(
        (
          await fetch(`${front.url}/api/auth/sign-in`, {
            method: "POST",
            headers: { "content-type": "application/json", origin: front.url },
            body: JSON.stringify({ email, password: `wrong-${i}` }),
          })
        ).status,
      );
    expect(guesses).toEqual([...Array(10).fill(401), 429]);

    // A live feed through the front: the fleet's sagas keep changing, the feed says so.
    const feed = await fetch(`${front.url}/api/trpc/sagas.onChange`, {
      headers: { cookie, accept: "text/event-stream" },
      signal: AbortSignal.timeout(30_000),
    });
    const reader = (feed.body as ReadableStream<Uint8Array>).getReader();
    let text = "";
    while (!/"sagaIds"/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    expect(text).toContain('"sagaIds"');
    // Both instances served the run.
    expect(Math.min(...front.served)).toBeGreaterThan(5);
    console.log(`requests served: ${front.served.join(" and ")}`);
  } finally {
    await context.close();
  }
});
