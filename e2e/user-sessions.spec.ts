// Users and their sessions on a production-mode dashboard of its own: an admin disables,
// re-roles and resets a user on /users, each audited and effective on the user's next request
// and on the live feed their page holds open; signing out ends every session, copied cookies
// included; a state-changing request that names no origin is refused.
import { randomUUID } from "node:crypto";
import type { BrowserContext, Page } from "@playwright/test";
import { E2E_ADMIN } from "./fixtures/e2e-env.ts";
import { expect, test } from "./fixtures/fleet.ts";

async function signInOnPage(page: Page, email: string, password: string) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/overview$/);
}

/** Who the server takes a request with these cookies for (null: nobody). */
async function whoAmI(url: string, cookie: string) {
  const response = await fetch(`${url}/api/trpc/auth.me`, { headers: { cookie } });
  const body = (await response.json()) as { result: { data: { json: { actor: { role: string } | null } } } };
  return body.result.data.json.actor;
}

const cookieOf = async (context: BrowserContext) =>
  (await context.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");

test("an admin disables, re-roles and resets a user: audited, effective at once, open live feeds end", async ({
  browser,
  fleet,
}) => {
  test.setTimeout(150_000);
  const web = await fleet.startOwnWeb({ SAGASCOPE_MODE: "production", SAGASCOPE_COOKIE_SECURE: "off" });
  const adminContext = await browser.newContext({ baseURL: web.url });
  const userContext = await browser.newContext({ baseURL: web.url });
  // The pages run under the Content-Security-Policy: nothing they do may be blocked by it.
  const blocked: string[] = [];
  for (const context of [adminContext, userContext])
    context.on("console", (m) => {
      if (/Content.Security.Policy/i.test(m.text())) blocked.push(m.text());
    });
  try {
    const admin = await adminContext.newPage();
    await signInOnPage(admin, E2E_ADMIN.email, E2E_ADMIN.password);
    const email = `managed-${randomUUID().slice(0, 8)}@e2e.test`;
    const password = `first-${randomUUID()}`;
    await admin.goto("/users");
    const form = admin.getByRole("form", { name: "Add a user" });
    await form.getByLabel("Email").fill(email);
    await form.getByLabel("Name").fill("Managed user");
    await form.getByLabel("Role").selectOption("viewer");
    await form.getByLabel("Password (12 characters at least)").fill(password);
    await form.getByRole("button", { name: "Add user" }).click();
    const row = admin.locator(`tr[data-email="${email}"]`);
    await expect(row).toHaveAttribute("data-role", "viewer");

    const user = await userContext.newPage();
    await signInOnPage(user, email, password);
    const session = await cookieOf(userContext);
    expect(await whoAmI(web.url, session)).toMatchObject({ role: "viewer" });
    // The live feed a page keeps open, with the user's session.
    const feed = fetch(`${web.url}/api/trpc/sagas.onChange`, {
      headers: { cookie: session, accept: "text/event-stream" },
      signal: AbortSignal.timeout(60_000),
    }).then((r) => r.text());

    // A new role: the same session is an operator on its next request.
    await row.getByLabel(`Role of ${email}`).selectOption("operator");
    await row.getByRole("button", { name: "Set role" }).click();
    await expect(row.getByTestId("action-result")).toContainText(`${email} is now operator`);
    await expect(row).toHaveAttribute("data-role", "operator");
    expect(await whoAmI(web.url, session)).toMatchObject({ role: "operator" });

    // Disabled: the next request is nobody's, and the open feed ends saying why.
    const disabledAt = Date.now();
    await row.getByRole("button", { name: "Disable" }).click();
    await expect(row.getByTestId("action-result")).toContainText(`${email} disabled: signed out everywhere`);
    await expect(row).toHaveAttribute("data-disabled", "true");
    expect(await whoAmI(web.url, session)).toBeNull();
    expect(await feed).toContain("signed out: this session ended");
    console.log(`live feed ended ${Date.now() - disabledAt} ms after the disable`);

    // Enabled again, the old cookie stays dead; signing in again works.
    await row.getByRole("button", { name: "Enable" }).click();
    await expect(row).toHaveAttribute("data-disabled", "false");
    expect(await whoAmI(web.url, session)).toBeNull();
    await signInOnPage(user, email, password);
    const second = await cookieOf(userContext);
    expect(await whoAmI(web.url, second)).toMatchObject({ role: "operator" });

    // A new password ends the session; the old password no longer signs in.
    const newPassword = `second-${randomUUID()}`;
    await row.getByRole("button", { name: "New password…" }).click();
    await row.getByLabel(`New password for ${email}`).fill("short");
    await row.getByRole("button", { name: "Set password" }).click();
    await expect(row.getByRole("alert")).toContainText("12 characters at least");
    await row.getByLabel(`New password for ${email}`).fill(newPassword);
    await row.getByRole("button", { name: "Set password" }).click();
    await expect(row.getByTestId("action-result")).toContainText("has a new password: signed out everywhere");
    expect(await whoAmI(web.url, second)).toBeNull();
    const signIn = (pw: string) =>
      fetch(`${web.url}/api/auth/sign-in`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: web.url },
        body: JSON.stringify({ email, password: pw }),
      });
    expect((await signIn(password)).status).toBe(401);
    await signInOnPage(user, email, newPassword);

    // Signing out ends the session on the server: a copy of the cookie is refused after.
    const copied = await cookieOf(userContext);
    expect(await whoAmI(web.url, copied)).toMatchObject({ role: "operator" });
    await user.getByTestId("user-badge").getByRole("button", { name: "Sign out" }).click();
    await expect.poll(() => whoAmI(web.url, copied)).toBeNull();

    // Each change is on the audit log, done, and no password is in it.
    const { rows } = await fleet.store.query(
      "SELECT action, phase, params FROM audit_entry WHERE target = $1 AND phase = 'done' ORDER BY id",
      [email],
    );
    expect(rows.map((r) => r.action)).toEqual([
      "users.create",
      "users.role",
      "users.disable",
      "users.enable",
      "users.password",
    ]);
    expect(JSON.stringify(rows)).not.toContain(newPassword);
    expect(blocked).toEqual([]);
  } finally {
    await adminContext.close();
    await userContext.close();
  }
});

test("a state-changing request naming no origin is refused, even with the session's CSRF token; each refusal audited", async ({
  fleet,
}) => {
  const since = new Date();
  const web = await fleet.startOwnWeb({ SAGASCOPE_MODE: "production", SAGASCOPE_COOKIE_SECURE: "off" });
  const signIn = (headers: Record<string, string>) =>
    fetch(`${web.url}/api/auth/sign-in`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(E2E_ADMIN),
    });
  expect((await signIn({})).status).toBe(403);
  // The security headers, on pages and on the API.
  for (const path of ["/sign-in", "/api/trpc/auth.me"]) {
    const headers = (await fetch(`${web.url}${path}`)).headers;
    expect(headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(headers.get("x-frame-options")).toBe("DENY");
    expect(headers.get("x-content-type-options")).toBe("nosniff");
    expect(headers.get("referrer-policy")).toBe("same-origin");
  }
  const signedIn = await signIn({ origin: web.url });
  expect(signedIn.status).toBe(200);
  const cookie = (signedIn.headers.get("set-cookie") ?? "").split(";")[0] as string;
  const me = (await (await fetch(`${web.url}/api/trpc/auth.me`, { headers: { cookie } })).json()) as {
    result: { data: { json: { csrf: string } } };
  };
  const createUser = (
    headers: Record<string, string>,
    email = `no-origin-${randomUUID().slice(0, 8)}@e2e.test`,
  ) =>
    fetch(`${web.url}/api/trpc/auth.createUser`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        cookie,
        "x-sagascope-csrf": me.result.data.json.csrf,
        ...headers,
      },
      body: JSON.stringify({
        json: {
          email,
          name: "No origin",
          role: "viewer",
          password: "long-enough-password",
          idempotencyKey: randomUUID(),
        },
      }),
    });
  const refused = await createUser({});
  expect(refused.status).toBe(403);
  expect(await refused.text()).toContain("did not come from the dashboard's page");
  expect((await createUser({ origin: "http://elsewhere.example" })).status).toBe(403);
  expect((await createUser({ origin: web.url })).status).toBe(200);
  // A batch of more procedures than one request may carry is refused before any runs.
  const batch = Array.from({ length: 17 }, () => "auth.me").join(",");
  const tooMany = await fetch(`${web.url}/api/trpc/${batch}?batch=1`, { headers: { cookie } });
  expect(tooMany.status).toBe(413);
  expect(await tooMany.text()).toContain("at most 16 in one request");
  // Input that does not validate is refused before the action, and on record too.
  expect((await createUser({ origin: web.url }, "not an address")).status).toBe(400);

  const { rows } = await fleet.store.query(
    `SELECT actor, action, message FROM audit_entry
     WHERE phase = 'denied' AND at >= $1 AND action IN ('sign-in', 'auth.createUser', 'trpc.batch') ORDER BY id`,
    [since],
  );
  const admin = E2E_ADMIN.email;
  expect(rows).toEqual(
    expect.arrayContaining([
      { actor: "anonymous", action: "sign-in", message: "not from this site (no or another Origin)" },
      {
        actor: admin,
        action: "auth.createUser",
        message: "no CSRF token of the session, or not from this site",
      },
      { actor: admin, action: "auth.createUser", message: expect.stringMatching(/^invalid input: .*email/s) },
      {
        actor: "anonymous",
        action: "trpc.batch",
        message: "a batch of 17 procedures; at most 16 in one request",
      },
    ]),
  );
});
