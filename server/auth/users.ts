// The dashboard's users: created by an admin (or the first admin, from the environment),
// signed in by email and password.
import type { Pool } from "../db/pool.ts";
import { AppError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { type NewUser, NewUserSchema } from "./new-user.ts";
import { hashPassword, verifyPassword } from "./passwords.ts";
import type { Actor, Role } from "./roles.ts";

export { type NewUser, NewUserSchema };

type Db = Pick<Pool, "query">;

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

/** The user these credentials name, or undefined (wrong password, unknown or disabled). */
export async function authenticate(db: Db, email: string, password: string): Promise<Actor | undefined> {
  const { rows } = await db.query<UserView & { passwordHash: string }>(
    `SELECT ${COLUMNS}, password_hash AS "passwordHash" FROM app_user WHERE email = $1`,
    [email.trim().toLowerCase()],
  );
  const user = rows[0];
  // An unknown email costs the same as a wrong password, so the timing does not tell them apart.
  const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
  if (!user || !ok || user.disabled) return undefined;
  return { id: user.id, email: user.email, name: user.name, role: user.role, via: "session" };
}

/** The signed-in user as the database has them now (a role change or disabling applies at once). */
export async function currentUser(db: Db, id: string): Promise<Actor | undefined> {
  const { rows } = await db.query<UserView>(`SELECT ${COLUMNS} FROM app_user WHERE id = $1::bigint`, [id]);
  const user = rows[0];
  if (!user || user.disabled) return undefined;
  return { id: user.id, email: user.email, name: user.name, role: user.role, via: "session" };
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
