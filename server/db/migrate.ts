// Applies the versioned SQL migrations in prisma/migrations (node-pg-migrate, under an
// advisory lock, so concurrent starters are safe). Run by `npm run db:migrate`, the demo and the tests.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runner } from "node-pg-migrate";

export const MIGRATIONS_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../prisma/migrations",
);

export async function migrate(
  databaseUrl: string,
  log: (line: string) => void = () => {},
): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: "up",
    migrationsTable: "sagascope_migrations",
    checkOrder: true,
    singleTransaction: true,
    advisoryLockMode: "wait",
    log: () => {},
    logger: { debug: () => {}, info: () => {}, warn: (m: string) => log(m), error: (m: string) => log(m) },
  });
  for (const m of applied) log(`applied migration ${m.name}`);
  return applied.map((m) => m.name);
}
