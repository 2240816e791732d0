// `sagascope migrate` / `npm run db:migrate`: applies pending migrations, as the owner when
// SAGASCOPE_MIGRATION_DATABASE_URL names one (docs/deployment.md), then exits.
import { env } from "../env.ts";
import { migrate } from "./migrate.ts";

const config = env();
const applied = await migrate(config.SAGASCOPE_MIGRATION_DATABASE_URL ?? config.DATABASE_URL, (line) =>
  console.log(`[db] ${line}`),
).catch((error: Error) => {
  console.error(`[db] migration failed: ${error.message}`);
  process.exit(1);
});
console.log(`[db] ${applied.length} migration(s) applied; the database is current`);
