// Users as an admin changes them, against a database of its own: disabling and a new password
// end every session (an older session version is nobody), a role change applies to the next
// request, and the last enabled admin can be neither disabled nor demoted.
import { describe, expect, it } from "vitest";
import { migratedStore } from "../../scripts/test/infra.ts";
import type { AppError } from "../errors.ts";
import { authenticate, changeUser, createUser, currentUser, revokeSessions, signInSsoUser } from "./users.ts";

const store = migratedStore("users", 2);

const PASSWORD = "a-password-of-some-length";

async function signedIn(email: string, password = PASSWORD) {
  const result = await authenticate(store.pool(), email, password);
  if (!result) throw new Error(`${email} could not sign in`);
  return { id: result.actor.id, version: result.sessionVersion };
}

describe("an admin's changes to a user", () => {
  it("disabling ends every session at once; enabling does not bring old sessions back", async () => {
    await createUser(store.pool(), {
      email: "ops@example.test",
      name: "Ops",
      role: "operator",
      password: PASSWORD,
    });
    const session = await signedIn("ops@example.test");
    expect(await currentUser(store.pool(), session.id, session.version)).toMatchObject({ role: "operator" });

    await changeUser(store.pool(), "ops@example.test", { kind: "disable" });
    expect(await currentUser(store.pool(), session.id, session.version)).toBeUndefined();
    expect(await authenticate(store.pool(), "ops@example.test", PASSWORD)).toBeUndefined();

    await changeUser(store.pool(), "ops@example.test", { kind: "enable" });
    expect(await currentUser(store.pool(), session.id, session.version)).toBeUndefined();
    const again = await signedIn("ops@example.test");
    expect(again.version).toBeGreaterThan(session.version);
    expect(await currentUser(store.pool(), again.id, again.version)).toMatchObject({
      email: "ops@example.test",
    });
  });

  it("a role change applies to the session's next request; a new password ends the session", async () => {
    await createUser(store.pool(), {
      email: "view@example.test",
      name: "View",
      role: "viewer",
      password: PASSWORD,
    });
    const session = await signedIn("view@example.test");
    await changeUser(store.pool(), "view@example.test", { kind: "role", role: "operator" });
    expect(await currentUser(store.pool(), session.id, session.version)).toMatchObject({ role: "operator" });

    await changeUser(store.pool(), "view@example.test", {
      kind: "password",
      password: "another-long-password",
    });
    expect(await currentUser(store.pool(), session.id, session.version)).toBeUndefined();
    expect(await authenticate(store.pool(), "view@example.test", PASSWORD)).toBeUndefined();
    expect(await authenticate(store.pool(), "view@example.test", "another-long-password")).toBeDefined();
  });

  it("signing out revokes every session of the user", async () => {
    await createUser(store.pool(), {
      email: "two@example.test",
      name: "Two",
      role: "viewer",
      password: PASSWORD,
    });
    const laptop = await signedIn("two@example.test");
    const phone = await signedIn("two@example.test");
    await revokeSessions(store.pool(), laptop.id);
    expect(await currentUser(store.pool(), laptop.id, laptop.version)).toBeUndefined();
    expect(await currentUser(store.pool(), phone.id, phone.version)).toBeUndefined();
  });

  it("keeps an enabled admin: the last one can be neither disabled nor demoted", async () => {
    await createUser(store.pool(), {
      email: "root@example.test",
      name: "Root",
      role: "admin",
      password: PASSWORD,
    });
    const refusal = (change: Parameters<typeof changeUser>[2]) =>
      changeUser(store.pool(), "root@example.test", change).then(
        () => undefined,
        (error: AppError) => [error.code, error.message],
      );
    const lastAdmin = [
      "CONFLICT",
      "root@example.test is the last enabled admin: make another user an admin first",
    ];
    expect(await refusal({ kind: "disable" })).toEqual(lastAdmin);
    expect(await refusal({ kind: "role", role: "operator" })).toEqual(lastAdmin);
    // With a second admin, the first may step down.
    await changeUser(store.pool(), "ops@example.test", { kind: "role", role: "admin" });
    expect(await refusal({ kind: "role", role: "operator" })).toBeUndefined();
    await expect(changeUser(store.pool(), "nobody@example.test", { kind: "enable" })).rejects.toThrow(
      "no user nobody@example.test",
    );
  });

  it("single sign-on makes and re-roles its own users, never one with a password here", async () => {
    const sso = (email: string, role: "viewer" | "operator" | "admin") =>
      signInSsoUser(store.pool(), { email, name: "From the provider", role });
    const first = await sso("Dana@Example.test", "viewer");
    expect(first).toMatchObject({ ok: true, actor: { email: "dana@example.test", role: "viewer" } });
    expect(await sso("dana@example.test", "operator")).toMatchObject({
      ok: true,
      actor: { role: "operator" },
    });

    await createUser(store.pool(), {
      email: "local@example.test",
      name: "Local",
      role: "admin",
      password: PASSWORD,
    });
    expect(await sso("LOCAL@example.test", "viewer")).toEqual({
      ok: false,
      why: "local@example.test is a user with a password here: sign in with it (single sign-on does not take over an account made here)",
    });
    // Untouched: still an admin with their own name, and their password still signs them in.
    const local = await authenticate(store.pool(), "local@example.test", PASSWORD);
    expect(local?.actor).toMatchObject({ role: "admin", name: "Local" });

    await changeUser(store.pool(), "dana@example.test", { kind: "disable" });
    expect(await sso("dana@example.test", "admin")).toEqual({
      ok: false,
      why: "dana@example.test is disabled here",
    });
  });
});
