// Runs a service's own schema set-up (CREATE … IF NOT EXISTS) in one transaction under an
// advisory lock: two instances starting at once would otherwise race in the catalog
// ("duplicate key value violates unique constraint pg_type_typname_nsp_index").
import type { Pool } from "./pool.ts";
import { withTransaction } from "./transaction.ts";

/** Advisory lock class of schema set-up (two-key form, apart from other lock users). */
const LOCK_CLASS_DDL = 7303;

export async function serializedDdl(pool: Pool, lockName: string, statements: string[]): Promise<void> {
  await withTransaction(pool, async (client) => {
    await client.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [LOCK_CLASS_DDL, lockName]);
    for (const sql of statements) await client.query(sql);
  });
}
