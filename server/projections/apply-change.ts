// How a batch of changes lands in the read model: one locking read and one multi-row
// statement per view table, whatever the batch holds. A change takes effect only when its
// version is newer than what the row holds for its source, so replayed or late changes
// change nothing and one aggregate's changes apply in order. The rows are locked first (in
// id order, so two batches never wait on each other in a cycle) and the batch is walked
// change by change against the held versions: each change's outcome is exactly what
// applying the changes one at a time would give, and only each row's newest state is written.
import type { PoolClient } from "../db/pool.ts";
import type { Change } from "./change-events.ts";

type State = Change["state"];
const str = (v: unknown) => (v === undefined || v === null ? null : String(v));
const num = (v: unknown) => (v === undefined || v === null ? null : Number(v));

/** The order view joins four sources; each source owns its columns and its version. */
const ORDER_SOURCES = {
  order: {
    customer_id: (s: State) => str(s.customer_id),
    sku: (s: State) => str(s.sku),
    quantity: (s: State) => num(s.quantity),
    amount_cents: (s: State) => num(s.amount_cents),
    order_status: (s: State) => str(s.status),
    placed_at: (s: State) => str(s.placed_at),
  },
  payment: { payment_status: (s: State) => str(s.status) },
  reservation: { reservation_status: (s: State) => str(s.status) },
  shipment: { shipment_id: (s: State) => str(s.shipment_id) },
} as const;
type OrderSource = keyof typeof ORDER_SOURCES;
const SOURCE_NAMES = Object.keys(ORDER_SOURCES) as OrderSource[];
const ORDER_COLUMN_TYPES: Record<string, string> = {
  customer_id: "text",
  sku: "text",
  quantity: "int",
  amount_cents: "bigint",
  order_status: "text",
  placed_at: "timestamptz",
  payment_status: "text",
  reservation_status: "text",
  shipment_id: "text",
};
const isOrderSource = (t: string): t is OrderSource => t in ORDER_SOURCES;

type Indexed = { change: Change; index: number };
const byId = <T>([a]: [string, T], [b]: [string, T]) => (a < b ? -1 : a > b ? 1 : 0);

/** The rows of `table` a batch touches, locked in id order: two batches never wait on each other in a cycle. */
async function lockTouchedRows<Row extends object>(
  client: PoolClient,
  schema: string,
  table: string,
  key: string,
  columns: string[],
  changes: Indexed[],
): Promise<Row[]> {
  const ids = [...new Set(changes.map((c) => c.change.aggregateId))].sort();
  const { rows } = await client.query<Row>(
    `SELECT ${key}, ${columns.join(", ")} FROM ${schema}.${table}
     WHERE ${key} = ANY($1::text[]) ORDER BY ${key} FOR UPDATE`,
    [ids],
  );
  return rows;
}

/** What one batch leaves in one order row: per source, its newest fresh change (if any). */
interface OrderRow {
  newest: Partial<Record<OrderSource, Change>>;
  applied: number;
}

async function applyOrderChanges(
  client: PoolClient,
  schema: string,
  changes: Indexed[],
  fresh: boolean[],
): Promise<void> {
  const held = await lockTouchedRows<Record<string, number> & { order_id: string }>(
    client,
    schema,
    "order_view",
    "order_id",
    SOURCE_NAMES.map((s) => `${s}_version`),
    changes,
  );
  const versions = new Map(held.map((r) => [r.order_id, r]));
  const rows = new Map<string, OrderRow>();
  for (const { change, index } of changes) {
    const source = change.aggregateType as OrderSource;
    const id = change.aggregateId;
    const row = rows.get(id) ?? { newest: {}, applied: 0 };
    const heldVersion = row.newest[source]?.version ?? versions.get(id)?.[`${source}_version`] ?? 0;
    if (change.version <= heldVersion) continue;
    fresh[index] = true;
    row.newest[source] = change;
    row.applied += 1;
    rows.set(id, row);
  }
  if (rows.size === 0) return;

  const columns = Object.keys(ORDER_COLUMN_TYPES);
  const sorted = [...rows].sort(byId);
  const columnValues = columns.map((column) =>
    sorted.map(([, row]) => {
      for (const source of SOURCE_NAMES) {
        const read = (ORDER_SOURCES[source] as Record<string, (s: State) => unknown>)[column];
        const change = row.newest[source];
        // A deleted source leaves its columns empty; the version still moves on.
        if (read && change) return change.op === "deleted" ? null : read(change.state);
      }
      return null;
    }),
  );
  const versionValues = SOURCE_NAMES.map((source) =>
    sorted.map(([, row]) => row.newest[source]?.version ?? 0),
  );
  const names = [...columns, ...SOURCE_NAMES.map((s) => `${s}_version`), "applied_changes"];
  const types = [...columns.map((c) => ORDER_COLUMN_TYPES[c]), ...SOURCE_NAMES.map(() => "int"), "int"];
  // A source's columns change only where the batch brought it a newer version.
  const newer = (source: OrderSource) => `EXCLUDED.${source}_version > order_view.${source}_version`;
  const sourceOf = (column: string) => SOURCE_NAMES.find((s) => column in ORDER_SOURCES[s]) as OrderSource;
  await client.query(
    `INSERT INTO ${schema}.order_view (order_id, ${names.join(", ")})
     SELECT * FROM unnest($1::text[], ${types.map((t, i) => `$${i + 2}::${t}[]`).join(", ")})
     ON CONFLICT (order_id) DO UPDATE SET
       ${columns.map((c) => `${c} = CASE WHEN ${newer(sourceOf(c))} THEN EXCLUDED.${c} ELSE order_view.${c} END`).join(",\n       ")},
       ${SOURCE_NAMES.map((s) => `${s}_version = GREATEST(order_view.${s}_version, EXCLUDED.${s}_version)`).join(", ")},
       applied_changes = order_view.applied_changes + EXCLUDED.applied_changes, updated_at = now()
     WHERE ${SOURCE_NAMES.map(newer).join(" OR ")}`,
    [sorted.map(([id]) => id), ...columnValues, ...versionValues, sorted.map(([, row]) => row.applied)],
  );
}

/** What one batch leaves of one account: gone, or its newest state and the changes since it (re)appeared. */
interface AccountRow {
  deleted: boolean;
  exists: boolean;
  version: number;
  newest?: Change;
  appliedSinceCreated: number;
}

async function applyAccountChanges(
  client: PoolClient,
  schema: string,
  changes: Indexed[],
  fresh: boolean[],
): Promise<void> {
  const held = await lockTouchedRows<{ account_id: string; version: number }>(
    client,
    schema,
    "account_view",
    "account_id",
    ["version"],
    changes,
  );
  const rows = new Map<string, AccountRow>(
    held.map((r) => [
      r.account_id,
      { deleted: false, exists: true, version: r.version, appliedSinceCreated: 0 },
    ]),
  );
  for (const { change, index } of changes) {
    const id = change.aggregateId;
    const row = rows.get(id) ?? { deleted: false, exists: false, version: 0, appliedSinceCreated: 0 };
    rows.set(id, row);
    if (change.op === "deleted") {
      // A deleted account leaves the view; only a row that is there can be deleted.
      if (!row.exists || change.version <= row.version) continue;
      Object.assign(row, { deleted: true, exists: false, newest: undefined, appliedSinceCreated: 0 });
    } else {
      if (row.exists && change.version <= row.version) continue;
      Object.assign(row, { exists: true, version: change.version, newest: change });
      row.appliedSinceCreated += 1;
    }
    fresh[index] = true;
  }

  const deleted = [...rows].filter(([, r]) => r.deleted).map(([id]) => id);
  if (deleted.length > 0)
    await client.query(`DELETE FROM ${schema}.account_view WHERE account_id = ANY($1::text[])`, [deleted]);
  const written = [...rows]
    .filter((entry): entry is [string, AccountRow & { newest: Change }] => entry[1].newest !== undefined)
    .sort(byId);
  if (written.length === 0) return;
  const state = (pick: (s: State) => unknown) => written.map(([, r]) => pick(r.newest.state));
  await client.query(
    `INSERT INTO ${schema}.account_view (account_id, bank, account, balance, closed, version, applied_changes, last_change_at)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::boolean[], $6::int[], $7::int[], $8::timestamptz[])
     ON CONFLICT (account_id) DO UPDATE SET balance = EXCLUDED.balance, closed = EXCLUDED.closed,
       version = EXCLUDED.version, applied_changes = account_view.applied_changes + EXCLUDED.applied_changes,
       last_change_at = EXCLUDED.last_change_at, updated_at = now()
     WHERE account_view.version < EXCLUDED.version`,
    [
      written.map(([id]) => id),
      state((s) => str(s.bank)),
      state((s) => str(s.account)),
      state((s) => Number(s.balance)),
      state((s) => Boolean(s.closed)),
      written.map(([, r]) => r.version),
      written.map(([, r]) => r.appliedSinceCreated),
      written.map(([, r]) => r.newest.occurredAt),
    ],
  );
}

/**
 * Applies a batch of changes in the order given; for each, whether it took effect (false for
 * old news, or an aggregate type this model does not hold).
 */
export async function applyChanges(
  client: PoolClient,
  schema: string,
  changes: Change[],
): Promise<boolean[]> {
  const fresh = changes.map(() => false);
  const orders: Indexed[] = [];
  const accounts: Indexed[] = [];
  changes.forEach((change, index) => {
    if (isOrderSource(change.aggregateType)) orders.push({ change, index });
    else if (change.aggregateType === "account") accounts.push({ change, index });
  });
  if (orders.length > 0) await applyOrderChanges(client, schema, orders, fresh);
  if (accounts.length > 0) await applyAccountChanges(client, schema, accounts, fresh);
  return fresh;
}

/** Applies one change; false when it was old news (or of an aggregate type this model does not hold). */
export async function applyChange(client: PoolClient, schema: string, change: Change): Promise<boolean> {
  const [fresh] = await applyChanges(client, schema, [change]);
  return fresh === true;
}
