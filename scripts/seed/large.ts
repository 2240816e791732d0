// `npm run seed:large [-- --sagas N] [--events-per-saga N] [--database-url URL] [--reset]`:
// a store of its own (DATABASE_URL's server, database name + `_large`) filled with a month
// of a busy fleet, by default 1 million sagas and 10 million events, for the dashboard's
// benchmark (`npm run bench:dashboard`). Refuses a store that already holds sagas unless
// --reset, which drops the database and makes it anew from the migrations.
// --events-per-saga is the mean to aim at, by retried attempts: from about 9.4 (the
// stories as they are; none is cut short) to about 18 (every step that succeeds retried twice).
// After the load, a handful of transfers are moved to a bank of their own (see addRareService).
import { parseArgs } from "node:util";
import pg from "pg";
import { z } from "zod";
import { migrate } from "../../server/db/migrate.ts";
import { env, siblingDatabase } from "../../server/env.ts";
import { topics } from "../../server/events/index.ts";
import { ensurePostgres, recreateDatabase } from "../infra/postgres.ts";
import { SeedRefusal, type SeedReport, seconds, seedSagas } from "./seed-sagas.ts";

const ArgsSchema = z.object({
  sagas: z.coerce.number().int().min(1).max(20_000_000).default(1_000_000),
  "events-per-saga": z.coerce.number().int().min(1).max(20).default(10),
  chunk: z.coerce.number().int().min(100).max(500_000).default(50_000),
  "database-url": z
    .string()
    .regex(/^postgres(ql)?:\/\//, "expected a postgres:// or postgresql:// URL")
    .optional(),
  reset: z.boolean().default(false),
});

const say = (line: string) => console.log(`[seed] ${line}`);
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

async function main() {
  const { values } = parseArgs({
    options: {
      sagas: { type: "string" },
      "events-per-saga": { type: "string" },
      chunk: { type: "string" },
      "database-url": { type: "string" },
      reset: { type: "boolean" },
    },
  });
  const args = ArgsSchema.parse(values);
  const config = env();
  const databaseUrl = args["database-url"] ?? siblingDatabase(config.DATABASE_URL, "_large");
  const shown = new URL(databaseUrl);
  shown.password = "";
  say(`store: ${shown.toString()}`);
  if (args.reset) {
    say("--reset: dropping and creating the database");
    await recreateDatabase(databaseUrl);
  } else {
    await ensurePostgres(databaseUrl, config.given.database || Boolean(args["database-url"]));
  }
  const applied = await migrate(databaseUrl);
  if (applied.length > 0) say(`${applied.length} migration(s) applied`);
  say(
    `seeding ${args.sagas.toLocaleString("en-US")} sagas, about ${args["events-per-saga"]} events each, ` +
      `${args.chunk.toLocaleString("en-US")} per transaction`,
  );
  const report = await seedSagas({
    databaseUrl,
    sagas: args.sagas,
    eventsPerSaga: args["events-per-saga"],
    chunkSize: args.chunk,
    stuckGraceMs: config.SAGASCOPE_STUCK_GRACE_MS,
    topic: topics(config.SAGASCOPE_TOPIC_PREFIX).sagaEvents,
    say,
  });
  const rare = await addRareService(databaseUrl, RARE_SERVICE_SAGAS);
  printReport(report);
  console.log(`  rare service: ${RARE_SERVICE} in ${rare} sagas`);
}

/** A bank few sagas involve: the bench's "service used by a handful of sagas". */
const RARE_SERVICE = "bank-c";
const RARE_SERVICE_SAGAS = 12;

/**
 * Moves a handful of transfers from bank-b to a bank of its own, as if it had joined lately:
 * a service far below what the planner's statistics track (docs/dashboard-performance.md,
 * "A rare service"). Their events are renamed where they name the bank, with their identity
 * digests computed again, and their summaries and the vocabulary are what the ingester would
 * have stored for them. Vacuumed and analysed again after, as the seed leaves the store.
 */
async function addRareService(databaseUrl: string, sagas: number): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("BEGIN");
    const picked = await client.query(
      `CREATE TEMP TABLE rare_saga ON COMMIT DROP AS
       SELECT saga_id FROM saga_summary
       WHERE saga_type = 'interbank-transfer' AND services @> '{bank-b}' ORDER BY md5(saga_id) LIMIT $1`,
      [sagas],
    );
    const moved = (text: string) => `replace(${text}, 'bank-b', $1)`;
    await client.query(
      `UPDATE saga_event SET service = ${moved("service")}, source = ${moved("source")},
         data = ${moved("data::text")}::jsonb
       WHERE saga_id IN (SELECT saga_id FROM rare_saga)`,
      [RARE_SERVICE],
    );
    // Identities are keyed by (source, id); the event id alone is unique (a random UUID).
    await client.query(
      `UPDATE saga_event_identity AS i SET source = e.source, body_md5 = md5(e.type || ' ' || e.data::text)
       FROM saga_event AS e WHERE e.saga_id IN (SELECT saga_id FROM rare_saga) AND i.id = e.id`,
    );
    await client.query(
      `UPDATE saga_summary SET
         services = ARRAY(SELECT DISTINCT ${moved("s")} FROM unnest(services) AS s ORDER BY 1),
         failure_reason = ${moved("failure_reason")}, stuck_reason = ${moved("stuck_reason")},
         progress_expectation = ${moved("progress_expectation")}
       WHERE saga_id IN (SELECT saga_id FROM rare_saga)`,
      [RARE_SERVICE],
    );
    await client.query(
      `INSERT INTO saga_vocabulary (kind, value)
       VALUES ('service', $1), ('type_service', 'interbank-transfer/' || $1) ON CONFLICT DO NOTHING`,
      [RARE_SERVICE],
    );
    await client.query("COMMIT");
    await client.query("VACUUM (ANALYZE) saga_event, saga_event_identity, saga_summary, saga_vocabulary");
    return picked.rowCount ?? 0;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
}

function printReport(report: SeedReport) {
  console.log("\nseed:large");
  console.log(
    `  sagas ${report.sagas.toLocaleString("en-US")}, events ${report.events.toLocaleString("en-US")} ` +
      `(${(report.events / report.sagas).toFixed(2)} per saga)`,
  );
  for (const s of report.sizes) {
    console.log(
      `  ${s.table.padEnd(16)} ${s.rows.toLocaleString("en-US").padStart(12)} rows  table ${mb(s.tableBytes).padStart(8)}  indexes ${mb(s.indexBytes).padStart(8)}`,
    );
  }
  const t = report.seconds;
  console.log(
    `  time: load ${seconds(t.load * 1000)}, index rebuild ${seconds(t.indexes * 1000)}, ` +
      `vacuum + analyze ${seconds(t.vacuum * 1000)}, total ${seconds(t.total * 1000)}`,
  );
}

main().catch((error: unknown) => {
  if (error instanceof SeedRefusal) {
    console.error(`[seed] refused: ${error.message}`);
  } else {
    console.error(`[seed] failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.exit(1);
});
