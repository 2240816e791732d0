// The operator pages against the real dashboard in demo mode: a fault changed from the demo
// panel reaches Redis and the audit log (grouped phases, filters in the URL, the CSV export
// with the same filters); a viewer gets no controls and a direct call is refused and audited
// as denied; an admin adds a user, and a short password is stopped before it is sent.
import { randomUUID } from "node:crypto";
import { faultsKey } from "../server/fault-switches/fault-control.ts";
import { E2E_ADMIN, e2eRun } from "./fixtures/e2e-env.ts";
import { expect, test } from "./fixtures/fleet.ts";
import { mutate, signInAs } from "./fixtures/operators.ts";

test("a fault change from the panel is audited, found by filter, and exported with the filter", async ({
  page,
  fleet,
}) => {
  const { topicPrefix } = e2eRun();
  const { redis } = fleet;
  fleet.restoreLater({ faultsOf: "bank-a" });
  await page.goto("/faults");
  await expect(page.getByTestId("demo-banner")).toContainText("injected into the demo fleet");
  const row = page.locator('tr[data-service="bank-a"]');
  await row.getByRole("spinbutton", { name: "Error rate of bank-a in %" }).fill("0");
  await row.getByRole("button", { name: "Apply" }).click();
  const result = row.getByTestId("fault-result");
  await expect(result.getByTestId("action-result")).toHaveAttribute("data-phase", "done");
  await expect(result).toContainText("bank-a: error rate 0%");
  const actionId = await result.getAttribute("data-action-id");
  expect(actionId).toMatch(/^[0-9a-f-]{36}$/);
  // What the service follows is in Redis, and the panel reads it back.
  expect(await redis.hget(faultsKey(topicPrefix, "bank-a"), "errorRate")).toBe("0");
  await expect(row.getByTestId("faults-in-force")).toContainText("error rate 0%");

  // Another kind of action (the demo operator may not add users: denied), for the filter to leave out.
  const email = `not-added-${randomUUID().slice(0, 8)}@e2e.test`;
  const refused = await mutate(page.request, "auth.createUser", {
    email,
    name: "Not added",
    role: "viewer",
    password: "long-enough-password",
    idempotencyKey: randomUUID(),
  });
  expect(refused.status).toBe(403);

  await page.goto("/audit");
  const mine = page.locator(`tr[data-action-id="${actionId}"]`);
  await expect(mine).toHaveAttribute("data-action", "fleet.faults");
  await expect(mine).toHaveAttribute("data-actor", "demo-operator");
  await expect(mine).toHaveAttribute("data-outcome", "done");
  await expect(mine).toHaveAttribute("data-actor-role", "operator");
  await expect(mine.getByTestId("audit-outcome")).toHaveText("done");
  await expect(mine.getByRole("list", { name: "Phases" }).getByRole("listitem")).toHaveText([
    "requested",
    /^→ done \+\d+ ms$/,
  ]);
  await expect(mine).toContainText("service=bank-a, errorRate=0");
  const other = page.locator('tr[data-action="users.create"]', { hasText: email });
  await expect(other).toHaveAttribute("data-outcome", "denied");
  await expect(other).toContainText("the operator role may not users.create");

  await page.getByRole("combobox", { name: "Action", exact: true }).fill("fleet.faults");
  await page.getByRole("combobox", { name: "Action", exact: true }).press("Enter");
  await expect(page).toHaveURL(/\/audit\?action=fleet\.faults$/);
  await expect(other).toHaveCount(0);
  await expect(mine).toBeVisible();
  const shown = await page
    .getByTestId("audit-table")
    .locator("tbody tr")
    .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.action));
  expect(new Set(shown)).toEqual(new Set(["fleet.faults"]));
  // The filter is the page's address: it survives a reload.
  await page.reload();
  await expect(page.getByRole("combobox", { name: "Action", exact: true })).toHaveValue("fleet.faults");
  await expect(mine).toBeVisible();
  await expect(other).toHaveCount(0);

  const href = await page.getByTestId("export-csv").getAttribute("href");
  expect(href).toBe("/api/audit/export?action=fleet.faults");
  const csv = await page.request.get(href as string);
  expect(csv.headers()["content-type"]).toContain("text/csv");
  const lines = (await csv.text()).trim().split("\r\n");
  expect(lines[0]).toBe("id,at,actor,actor_role,action,target,phase,message,params,action_id");
  const ours = lines.filter((l) => l.endsWith(`,${actionId}`));
  expect(ours.map((l) => l.split(",")[6])).toEqual(["done", "requested"]);
  expect(lines.slice(1).every((l) => l.split(",")[4] === "fleet.faults")).toBe(true);
  expect(lines.some((l) => l.includes(email))).toBe(false);

  // Clear puts bank-a back on its own settings.
  await page.goto("/faults");
  await row.getByRole("button", { name: "Clear" }).click();
  await expect(result).toContainText("bank-a: faults cleared");
  await expect(row.getByTestId("faults-in-force")).toContainText("nothing injected");
  expect(await redis.exists(faultsKey(topicPrefix, "bank-a"))).toBe(0);
});

test("a viewer gets no fault controls; a direct call is refused with 403 and audited as denied", async ({
  page,
}) => {
  const { email } = await signInAs(page, "viewer");
  await page.goto("/faults");
  await expect(page.getByTestId("demo-banner")).toBeVisible();
  await expect(page.getByTestId("faults-not-allowed")).toContainText("The viewer role may not change faults");
  await expect(page.getByTestId("fault-table")).toBeVisible();
  await expect(page.getByRole("button", { name: /Apply|Crash|Clear|Pause|Resume/ })).toHaveCount(0);
  await expect(page.getByRole("spinbutton")).toHaveCount(0);

  const refused = await mutate(page.request, "actions.faults", {
    service: "bank-a",
    errorRate: 0,
    idempotencyKey: randomUUID(),
  });
  expect(refused.status).toBe(403);
  expect(JSON.stringify(refused.body)).toContain("the viewer role may not fleet.faults");

  await page.goto("/users");
  await expect(page.getByTestId("users-not-allowed")).toContainText("Only admins manage users.");
  await expect(page.getByRole("form", { name: "Add a user" })).toHaveCount(0);

  await page.goto("/audit");
  await page.getByRole("combobox", { name: "Filter by outcome or phase" }).selectOption("denied");
  await expect(page).toHaveURL(/\/audit\?phase=denied$/);
  const denied = page.locator(`tr[data-actor="${email}"][data-action="fleet.faults"]`);
  await expect(denied).toHaveAttribute("data-outcome", "denied");
  await expect(denied).toHaveAttribute("data-actor-role", "viewer");
  await expect(denied).toContainText("the viewer role may not fleet.faults");
  const outcomes = await page
    .getByTestId("audit-table")
    .locator("tbody tr")
    .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.outcome));
  expect(new Set(outcomes)).toEqual(new Set(["denied"]));
});

test("an admin adds a user; a short password is refused on the page before anything is sent", async ({
  page,
}) => {
  await signInAs(page, "admin");
  await page.goto("/users");
  const users = page.getByTestId("user-table");
  await expect(users.locator('tr[data-email="admin@e2e.test"]')).toHaveAttribute("data-role", "admin");

  const form = page.getByRole("form", { name: "Add a user" });
  const email = `added-${randomUUID().slice(0, 8)}@e2e.test`;
  await form.getByLabel("Email").fill(email);
  await form.getByLabel("Name").fill("Added by the admin");
  await form.getByLabel("Role").selectOption("operator");
  await form.getByLabel("Password (12 characters at least)").fill("a-long-enough-password");
  await form.getByRole("button", { name: "Add user" }).click();
  await expect(form.getByTestId("action-result")).toHaveAttribute("data-phase", "done");
  await expect(form.getByTestId("action-result")).toContainText(`${email} created as operator`);
  await expect(users.locator(`tr[data-email="${email}"]`)).toHaveAttribute("data-role", "operator");
  await expect(form.getByLabel("Email")).toHaveValue("");

  const sent: string[] = [];
  page.on("request", (r) => {
    if (r.url().includes("auth.createUser")) sent.push(r.url());
  });
  const short = `short-${randomUUID().slice(0, 8)}@e2e.test`;
  await form.getByLabel("Email").fill(short);
  await form.getByLabel("Name").fill("Short password");
  await form.getByLabel("Password (12 characters at least)").fill("too-short");
  await form.getByRole("button", { name: "Add user" }).click();
  await expect(form.getByRole("alert")).toHaveText("needs a password of 12 characters at least");
  await expect(form.getByLabel("Password (12 characters at least)")).toHaveAttribute("aria-invalid", "true");
  await form.getByLabel("Email").fill("not an address");
  await form.getByRole("button", { name: "Add user" }).click();
  await expect(form.getByRole("alert")).toHaveText([
    "needs an email address",
    "needs a password of 12 characters at least",
  ]);
  await page.reload();
  await expect(users.locator('tr[data-email="admin@e2e.test"]')).toBeVisible();
  await expect(users.locator(`tr[data-email="${short}"]`)).toHaveCount(0);
  expect(sent).toEqual([]);
});

test("password guessing is slowed, guesses sent at once included; each refused sign-in is audited", async ({
  fleet,
  request,
}) => {
  // A dashboard of its own: the slowing it trips stays there.
  const web = await fleet.startOwnWeb();
  const email = `guess-${Date.now()}@e2e.test`;
  const since = new Date();
  // Fifteen guesses at once: each is counted before any password is checked.
  const answers = await Promise.all(
    Array.from({ length: 15 }, (_, i) =>
      request.post(`${web.url}/api/auth/sign-in`, {
        data: { email, password: `wrong-${i}` },
        headers: { origin: web.url },
      }),
    ),
  );
  const statuses = answers.map((a) => a.status()).sort();
  expect(statuses).toEqual([...Array(10).fill(401), ...Array(5).fill(429)]);
  const slowed = answers.find((a) => a.status() === 429);
  expect(await slowed?.json()).toMatchObject({
    message: expect.stringContaining("too many sign-in attempts"),
  });
  // Slowed, never locked: an account waits 30 s at most.
  const retryAfter = Number(slowed?.headers()["retry-after"]);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(30);
  const { rows } = await fleet.store.query(
    "SELECT message, count(*)::int AS n FROM audit_entry WHERE action = 'sign-in' AND target = $1 AND at >= $2 GROUP BY 1 ORDER BY 1",
    [email, since],
  );
  expect(rows).toEqual([
    { message: "too many sign-in attempts: slowed down", n: 5 },
    { message: "wrong email or password, or a disabled user", n: 10 },
  ]);
});

test("signing in never leads off the site: next=//elsewhere.example lands on the overview", async ({
  page,
}) => {
  await page.goto("/sign-in?next=//elsewhere.example/steal");
  await page.getByLabel("Email").fill(E2E_ADMIN.email);
  await page.getByLabel("Password").fill(E2E_ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/^http:\/\/127\.0\.0\.1:\d+\/overview$/);
});

test("the user list is for admins: a viewer is refused, audited as denied", async ({ page }) => {
  const { email } = await signInAs(page, "viewer");
  const response = await page.request.get("/api/trpc/auth.users");
  expect(response.status()).toBe(403);
  expect(JSON.stringify(await response.json())).toContain(
    "refused: the viewer role may not read the user list",
  );
  await page.goto(`/audit?actor=${encodeURIComponent(email)}`);
  await expect(page.getByText("read:users.manage").first()).toBeVisible();
});
