// `npm run db:migrate`: applies pending migrations to DATABASE_URL.
import { migrate } from "../../server/db/migrate.ts";
import { env } from "../../server/env.ts";

const applied = await migrate(env().SAGASCOPE_MIGRATION_DATABASE_URL ?? env().DATABASE_URL, (line) =>
  console.log(`[db] ${line}`),
).catch((error: Error) => {
  console.error(`[db] migration failed: ${error.message}`);
  process.exit(1);
});
console.log(`[db] ${applied.length} migration(s) applied; the database is current`);
