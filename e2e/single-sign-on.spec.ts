// Single sign-on against a real OpenID provider run here (the oidc-provider package, its own
// login and consent pages): in Chromium, a user whose group maps to a role signs in through
// the provider and lands on the dashboard with that role; a user whose groups give no role is
// refused with the reason, and the refusal is audited; an account made here with a password
// is not taken over by a provider account of the same email.
import { createServer, type Server } from "node:http";
import Provider from "oidc-provider";
import { freePort } from "../scripts/processes.ts";
import { authenticate, createUser } from "../server/auth/users.ts";
import { expect, test } from "./fixtures/fleet.ts";

const GROUPS: Record<string, string[]> = {
  alice: ["eng", "sre"],
  mallory: ["marketing"],
  // Also a local admin here, with a password: the provider's "bob" must not become them.
  bob: ["eng"],
};

let idp: Server | undefined;

test.afterAll(async () => {
  await new Promise((resolve) => (idp ? idp.close(resolve) : resolve(undefined)));
});

async function startProvider(issuer: string, callback: string, port: number) {
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: "sagascope",
        client_secret: "a-client-secret-of-the-test-only",
        redirect_uris: [callback],
        grant_types: ["authorization_code"],
        response_types: ["code"],
      },
    ],
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"], groups: ["groups"] },
    findAccount: async (_ctx, id) => ({
      accountId: id,
      claims: async () => ({
        sub: id,
        email: `${id}@idp.test`,
        email_verified: true,
        name: `${id[0]?.toUpperCase()}${id.slice(1)} of the provider`,
        groups: GROUPS[id] ?? [],
      }),
    }),
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ["a-cookie-key-of-the-test-only"] },
  });
  idp = createServer(provider.callback());
  await new Promise<void>((resolve) => idp?.listen(port, "127.0.0.1", resolve));
}

/** Through the provider's own login and consent pages. */
async function signInAtProvider(page: import("@playwright/test").Page, login: string) {
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("any password: the provider's dev login takes any");
  await page.locator('button[type="submit"]').click();
  const consent = page.getByRole("button", { name: "Continue" });
  if (await consent.isVisible().catch(() => false)) await consent.click();
}

test("sign in through the identity provider: a mapped group gives its role; no mapped group is refused and audited", async ({
  browser,
  fleet,
}) => {
  test.setTimeout(120_000);
  const idpPort = await freePort();
  const issuer = `http://127.0.0.1:${idpPort}`;
  const since = new Date();
  const web = await fleet.startOwnWeb((url) => ({
    SAGASCOPE_MODE: "production",
    SAGASCOPE_COOKIE_SECURE: "off",
    SAGASCOPE_PUBLIC_URL: url,
    SAGASCOPE_OIDC_ISSUER: issuer,
    SAGASCOPE_OIDC_CLIENT_ID: "sagascope",
    SAGASCOPE_OIDC_CLIENT_SECRET: "a-client-secret-of-the-test-only",
    SAGASCOPE_OIDC_NAME: "the test provider",
    SAGASCOPE_OIDC_ROLES: "admin=platform-leads;operator=sre;viewer=eng",
  }));
  await startProvider(issuer, `${web.url}/api/auth/oidc/callback`, idpPort);

  const alice = await browser.newContext({ baseURL: web.url });
  const mallory = await browser.newContext({ baseURL: web.url });
  const bob = await browser.newContext({ baseURL: web.url });
  const bobsPassword = "bob's own password, made here";
  await fleet.store.query("DELETE FROM app_user WHERE email = 'bob@idp.test'");
  await createUser(fleet.store, {
    email: "bob@idp.test",
    name: "Bob here",
    role: "admin",
    password: bobsPassword,
  });
  try {
    const page = await alice.newPage();
    await page.goto("/sign-in?next=/breakers");
    await page.getByRole("link", { name: "Sign in with the test provider" }).click();
    await expect(page).toHaveURL(new RegExp(`^${issuer}/`));
    await signInAtProvider(page, "alice");
    // eng gives viewer, sre operator: the higher one.
    await expect(page).toHaveURL(/\/breakers$/);
    await expect(page.getByTestId("user-badge")).toHaveAttribute("data-role", "operator");
    await expect(page.getByTestId("user-badge")).toContainText("Alice of the provider");
    const { rows: users } = await fleet.store.query(
      "SELECT role FROM app_user WHERE email = 'alice@idp.test'",
    );
    expect(users).toEqual([{ role: "operator" }]);
    // An SSO user has no password here.
    const byPassword = await fetch(`${web.url}/api/auth/sign-in`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: web.url },
      body: JSON.stringify({ email: "alice@idp.test", password: "sso:no-password" }),
    });
    expect(byPassword.status).toBe(401);

    const refused = await mallory.newPage();
    await refused.goto("/sign-in");
    await refused.getByRole("link", { name: "Sign in with the test provider" }).click();
    await signInAtProvider(refused, "mallory");
    await expect(refused.getByRole("heading", { name: "Not signed in" })).toBeVisible();
    await expect(refused.locator("main")).toContainText("mallory@idp.test signed in at 127.0.0.1");
    await expect(refused.locator("main")).toContainText(
      "none of their groups (marketing) gives a Sagascope role",
    );
    const me = await refused.request.get("/api/trpc/auth.me");
    expect(JSON.stringify(await me.json())).toContain('"actor":null');

    const notBob = await bob.newPage();
    await notBob.goto("/sign-in");
    await notBob.getByRole("link", { name: "Sign in with the test provider" }).click();
    await signInAtProvider(notBob, "bob");
    await expect(notBob.getByRole("heading", { name: "Not signed in" })).toBeVisible();
    await expect(notBob.locator("main")).toContainText(
      "bob@idp.test is a user with a password here: sign in with it",
    );
    // The local account is as it was: still an admin, still "Bob here", its password still works.
    const local = await authenticate(fleet.store, "bob@idp.test", bobsPassword);
    expect(local?.actor).toMatchObject({ role: "admin", name: "Bob here" });

    const { rows } = await fleet.store.query(
      "SELECT actor, target, message FROM audit_entry WHERE action = 'sign-in.sso' AND phase = 'denied' AND at >= $1 ORDER BY at",
      [since],
    );
    expect(rows).toEqual([
      {
        actor: "anonymous",
        target: "mallory@idp.test",
        message: expect.stringContaining("none of their groups (marketing) gives a Sagascope role"),
      },
      {
        actor: "anonymous",
        target: "bob@idp.test",
        message: expect.stringContaining("bob@idp.test is a user with a password here"),
      },
    ]);
  } finally {
    await alice.close();
    await mallory.close();
    await bob.close();
    await fleet.store.query("DELETE FROM app_user WHERE email = 'bob@idp.test'");
  }
});
