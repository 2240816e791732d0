// Users as an admin changes them, against a database of its own: disabling and a new password
// end every session (an older session version is nobody), a role change applies to the next
// request, and the last enabled admin can be neither disabled nor demoted.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scratchDatabase } from "../../scripts/test/infra.ts";
import { migrate } from "../db/migrate.ts";
import { createPool, type Pool } from "../db/pool.ts";
import type { AppError } from "../errors.ts";
import { authenticate, changeUser, createUser, currentUser, revokeSessions } from "./users.ts";

let db: Awaited<ReturnType<typeof scratchDatabase>>;
let pool: Pool;

beforeAll(async () => {
  db = await scratchDatabase("users");
  await migrate(db.url, () => {});
  pool = createPool(db.url, 2);
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

const PASSWORD = "a-password-of-some-length";

async function signedIn(email: string, password = PASSWORD) {
  const result = await authenticate(pool, email, password);
  if (!result) throw new Error(`${email} could not sign in`);
  return { id: result.actor.id, version: result.sessionVersion };
}

describe("an admin's changes to a user", () => {
  it("disabling ends every session at once; enabling does not bring old sessions back", async () => {
    await createUser(pool, { email: "ops@example.test", name: "Ops", role: "operator", password: PASSWORD });
    const session = await signedIn("ops@example.test");
    expect(await currentUser(pool, session.id, session.version)).toMatchObject({ role: "operator" });

    await changeUser(pool, "ops@example.test", { kind: "disable" });
    expect(await currentUser(pool, session.id, session.version)).toBeUndefined();
    expect(await authenticate(pool, "ops@example.test", PASSWORD)).toBeUndefined();

    await changeUser(pool, "ops@example.test", { kind: "enable" });
    expect(await currentUser(pool, session.id, session.version)).toBeUndefined();
    const again = await signedIn("ops@example.test");
    expect(again.version).toBeGreaterThan(session.version);
    expect(await currentUser(pool, again.id, again.version)).toMatchObject({ email: "ops@example.test" });
  });

  it("a role change applies to the session's next request; a new password ends the session", async () => {
    await createUser(pool, { email: "view@example.test", name: "View", role: "viewer", password: PASSWORD });
    const session = await signedIn("view@example.test");
    await changeUser(pool, "view@example.test", { kind: "role", role: "operator" });
    expect(await currentUser(pool, session.id, session.version)).toMatchObject({ role: "operator" });

    await changeUser(pool, "view@example.test", { kind: "password", password: "another-long-password" });
    expect(await currentUser(pool, session.id, session.version)).toBeUndefined();
    expect(await authenticate(pool, "view@example.test", PASSWORD)).toBeUndefined();
    expect(await authenticate(pool, "view@example.test", "another-long-password")).toBeDefined();
  });

  it("signing out revokes every session of the user", async () => {
    await createUser(pool, { email: "two@example.test", name: "Two", role: "viewer", password: PASSWORD });
    const laptop = await signedIn("two@example.test");
    const phone = await signedIn("two@example.test");
    await revokeSessions(pool, laptop.id);
    expect(await currentUser(pool, laptop.id, laptop.version)).toBeUndefined();
    expect(await currentUser(pool, phone.id, phone.version)).toBeUndefined();
  });

  it("keeps an enabled admin: the last one can be neither disabled nor demoted", async () => {
    await createUser(pool, { email: "root@example.test", name: "Root", role: "admin", password: PASSWORD });
    const refusal = (change: Parameters<typeof changeUser>[2]) =>
      changeUser(pool, "root@example.test", change).then(
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
    await changeUser(pool, "ops@example.test", { kind: "role", role: "admin" });
    expect(await refusal({ kind: "role", role: "operator" })).toBeUndefined();
    await expect(changeUser(pool, "nobody@example.test", { kind: "enable" })).rejects.toThrow(
      "no user nobody@example.test",
    );
  });
});
