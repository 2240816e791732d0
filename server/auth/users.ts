// The dashboard's users: created by an admin (or the first admin, from the environment),
// signed in by email and password.

import { type NewUser, NewUserSchema, type UserChange } from "../../browser-safe/new-user.ts";
import type { Actor, Role } from "../../browser-safe/roles.ts";
import type { Pool } from "../db/pool.ts";
import { withTransaction } from "../db/transaction.ts";
import { AppError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { hashPassword, verifyPassword } from "./passwords.ts";

export { type NewUser, NewUserSchema, type UserChange };

type Db = Pick<Pool, "query">;

/** Advisory lock class of changes to users (7301–7305 are the outbox, banks, DDL, summaries, alerts). */
const LOCK_CLASS_USER_ADMIN = 7306;

export interface UserView {
  id: string;
  email: string;
  name: string;
  role: Role;
  disabled: boolean;
  createdAt: Date;
}

const COLUMNS = `id::text AS id, email, name, role, disabled, created_at AS "createdAt"`;

export async function createUser(db: Db, input: NewUser): Promise<UserView> {
  const user = NewUserSchema.parse(input);
  const { rows } = await db.query<UserView>(
    `INSERT INTO app_user (email, name, role, password_hash) VALUES ($1, $2, $3, $4)
     ON CONFLICT (email) DO NOTHING RETURNING ${COLUMNS}`,
    [user.email.toLowerCase(), user.name, user.role, await hashPassword(user.password)],
  );
  if (!rows[0]) throw new AppError("CONFLICT", `a user ${user.email} exists already`);
  return rows[0];
}

export async function listUsers(db: Db): Promise<UserView[]> {
  return (await db.query<UserView>(`SELECT ${COLUMNS} FROM app_user ORDER BY email`)).rows;
}

/**
 * The user these credentials name, with the session version a new session is issued under;
 * undefined for a wrong password, an unknown email or a disabled user.
 */
export async function authenticate(
  db: Db,
  email: string,
  password: string,
): Promise<{ actor: Actor; sessionVersion: number } | undefined> {
  const { rows } = await db.query<UserView & { passwordHash: string; sessionVersion: number }>(
    `SELECT ${COLUMNS}, password_hash AS "passwordHash", session_version AS "sessionVersion"
     FROM app_user WHERE email = $1`,
    [email.trim().toLowerCase()],
  );
  const user = rows[0];
  // An unknown email costs the same as a wrong password, so the timing does not tell them apart.
  const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
  if (!user || !ok || user.disabled) return undefined;
  return {
    actor: { id: user.id, email: user.email, name: user.name, role: user.role, via: "session" },
    sessionVersion: user.sessionVersion,
  };
}

/**
 * The signed-in user as the database has them now: a role change applies at once; a disabled
 * user, or a session issued before the user's sessions were revoked, is nobody.
 */
export async function currentUser(db: Db, id: string, sessionVersion: number): Promise<Actor | undefined> {
  const { rows } = await db.query<UserView>(
    `SELECT ${COLUMNS} FROM app_user WHERE id = $1::bigint AND session_version = $2`,
    [id, sessionVersion],
  );
  const user = rows[0];
  if (!user || user.disabled) return undefined;
  return { id: user.id, email: user.email, name: user.name, role: user.role, via: "session" };
}

/** Marks a user made by single sign-on: no password signs them in. */
const SSO_PASSWORD = "sso:no-password";

export type SsoSignIn = { ok: true; actor: Actor; sessionVersion: number } | { ok: false; why: string };

/**
 * A user signed in by the identity provider: made on their first sign-in, their name and role
 * as the provider's claims say at each one. Refused when an admin disabled them here, and
 * when the email belongs to a user with a password: the provider's word does not take over
 * (or re-role) an account made here.
 */
export async function signInSsoUser(
  db: Db,
  user: { email: string; name: string; role: Role },
): Promise<SsoSignIn> {
  const email = user.email.toLowerCase();
  const { rows } = await db.query<UserView & { sessionVersion: number }>(
    `INSERT INTO app_user (email, name, role, password_hash) VALUES ($1, $2, $3, $4)
     ON CONFLICT (email) DO UPDATE SET name = excluded.name, role = excluded.role
       WHERE app_user.password_hash = excluded.password_hash
     RETURNING ${COLUMNS}, session_version AS "sessionVersion"`,
    [email, user.name.slice(0, 200), user.role, SSO_PASSWORD],
  );
  const row = rows[0];
  if (!row)
    return {
      ok: false,
      why: `${email} is a user with a password here: sign in with it (single sign-on does not take over an account made here)`,
    };
  if (row.disabled) return { ok: false, why: `${email} is disabled here` };
  return {
    ok: true,
    actor: { id: row.id, email: row.email, name: row.name, role: row.role, via: "session" },
    sessionVersion: row.sessionVersion,
  };
}

/** Every session of the user ends: their cookies, copied or not, are refused from the next request. */
export async function revokeSessions(db: Db, id: string): Promise<void> {
  await db.query("UPDATE app_user SET session_version = session_version + 1 WHERE id = $1::bigint", [id]);
}

/**
 * An admin's change to a user, by email. Disabling and a new password also end the user's
 * sessions. The last enabled admin can be neither disabled nor given another role, so that
 * somebody can always manage users.
 */
export async function changeUser(pool: Pool, email: string, change: UserChange): Promise<UserView> {
  return withTransaction(pool, async (client) => {
    // One change to the admins at a time: two admins demoting each other cannot both succeed.
    await client.query("SELECT pg_advisory_xact_lock($1, 1)", [LOCK_CLASS_USER_ADMIN]);
    const found = await client.query<UserView>(
      `SELECT ${COLUMNS} FROM app_user WHERE email = $1 FOR UPDATE`,
      [email.trim().toLowerCase()],
    );
    const user = found.rows[0];
    if (!user) throw new AppError("NOT_FOUND", `no user ${email}`);
    const losesAdmin =
      user.role === "admin" &&
      !user.disabled &&
      (change.kind === "disable" || (change.kind === "role" && change.role !== "admin"));
    if (losesAdmin) {
      const others = await client.query(
        "SELECT 1 FROM app_user WHERE role = 'admin' AND NOT disabled AND id <> $1::bigint LIMIT 1",
        [user.id],
      );
      if (others.rows.length === 0)
        throw new AppError(
          "CONFLICT",
          `${user.email} is the last enabled admin: make another user an admin first`,
        );
    }
    const set =
      change.kind === "disable"
        ? { sql: "disabled = true, session_version = session_version + 1", params: [] }
        : change.kind === "enable"
          ? { sql: "disabled = false", params: [] }
          : change.kind === "role"
            ? { sql: "role = $2", params: [change.role] }
            : {
                sql: "password_hash = $2, session_version = session_version + 1",
                params: [await hashPassword(change.password)],
              };
    const { rows } = await client.query<UserView>(
      `UPDATE app_user SET ${set.sql} WHERE id = $1::bigint RETURNING ${COLUMNS}`,
      [user.id, ...set.params],
    );
    return rows[0] as UserView;
  });
}

const DUMMY_HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/** Creates the first admin from the environment when no admin exists yet. */
export async function ensureFirstAdmin(
  db: Db,
  admin: { email?: string | undefined; password?: string | undefined },
  log: Logger,
): Promise<void> {
  if (!admin.email || !admin.password) return;
  const existing = await db.query("SELECT 1 FROM app_user WHERE role = 'admin' LIMIT 1");
  if (existing.rows.length > 0) return;
  await createUser(db, {
    email: admin.email,
    name: "Administrator",
    role: "admin",
    password: admin.password,
  }).catch((error) => {
    if (!(error instanceof AppError && error.code === "CONFLICT")) throw error;
  });
  log.info("first admin created from the environment", { email: admin.email });
}
