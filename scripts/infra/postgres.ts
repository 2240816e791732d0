// PostgreSQL: the user's server when DATABASE_URL is given, otherwise the local one on
// 127.0.0.1, started when it is down. Creates the URL's database when it is missing.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import pg from "pg";
import { PrerequisiteError, step, waitUntil } from "./progress.ts";

async function connects(url: string): Promise<true | Error> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch (error) {
    return error as Error;
  } finally {
    await client.end().catch(() => {});
  }
}

function startLocalCluster(): void {
  const versions = existsSync("/etc/postgresql") ? readdirSync("/etc/postgresql").sort() : [];
  const version = versions.at(-1);
  if (!version) {
    throw new PrerequisiteError(
      "PostgreSQL is not running on 127.0.0.1:5432 and no local cluster was found. " +
        "Install it (`apt-get install -y postgresql`) or set DATABASE_URL to your own server.",
    );
  }
  const result = spawnSync("pg_ctlcluster", ["--skip-systemctl-redirect", version, "main", "start"], {
    encoding: "utf8",
  });
  if (result.status !== 0 && !/already running/i.test(result.stderr)) {
    throw new PrerequisiteError(
      `could not start PostgreSQL ${version}: ${result.stderr.trim() || result.error}`,
    );
  }
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Makes sure the server answers and the URL's database exists. */
export async function ensurePostgres(url: string, given: boolean): Promise<void> {
  const database = decodeURIComponent(new URL(url).pathname.slice(1));
  if (!/^[a-zA-Z0-9_]+$/.test(database)) {
    throw new PrerequisiteError(
      `DATABASE_URL names an unusual database "${database}"; use letters, digits, '_'`,
    );
  }
  const adminUrl = withDatabase(url, "postgres");
  let reached = await connects(adminUrl);
  if (reached !== true) {
    if (given) throw new PrerequisiteError(`cannot reach PostgreSQL at DATABASE_URL: ${reached.message}`);
    await step("starting the local PostgreSQL", async () => {
      startLocalCluster();
      await waitUntil(
        async () => {
          reached = await connects(adminUrl);
          return reached === true;
        },
        {
          timeoutMs: 30_000,
          givingUp: () => `PostgreSQL did not answer after start: ${(reached as Error).message}`,
        },
      );
    });
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const exists = await admin.query("select 1 from pg_database where datname = $1", [database]);
    if (exists.rowCount === 0) {
      await step(`creating database ${database}`, () => admin.query(`create database "${database}"`));
    }
  } catch (error) {
    // Two processes creating the same database at once: the loser sees 42P04, which is fine.
    if ((error as { code?: string }).code !== "42P04") throw error;
  } finally {
    await admin.end();
  }
}

/** Drops and creates the URL's database: test runs start from nothing. */
export async function recreateDatabase(url: string): Promise<void> {
  // Only the server must be up; the database itself is about to be dropped and made anew.
  await ensurePostgres(withDatabase(url, "postgres"), false);
  await onServer(url, async (admin, name) => {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"`);
  });
}

/** Drops the URL's database, if it exists (a bench's scratch database, when it is done). */
export async function dropDatabase(url: string): Promise<void> {
  await onServer(url, (admin, name) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

/** Runs `work` on the server's maintenance database, with the URL's database name. */
async function onServer(url: string, work: (admin: pg.Client, name: string) => Promise<unknown>) {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  const admin = new pg.Client({ connectionString: withDatabase(url, "postgres") });
  await admin.connect();
  try {
    await work(admin, name);
  } finally {
    await admin.end();
  }
}
