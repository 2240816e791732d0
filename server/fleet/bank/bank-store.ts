// A demo bank's own ledger, in its own schema: accounts and an idempotent operation log.
// Every operation is keyed by an operation id and serialised on it, so a retried debit
// applies once and a reversal that overtakes its operation cancels it for good.
import type { Pool, PoolClient } from "../../db/pool.ts";
import { serializedDdl } from "../../db/serialized-ddl.ts";
import { withTransaction } from "../../db/transaction.ts";
import { childSpan, newTrace } from "../../events/index.ts";
import { changeMessage } from "../../projections/change-events.ts";
import { StepFailure } from "../../sagas/index.ts";
import { outboxTable } from "../../sagas/outbox/outbox-table.ts";

export interface Account {
  id: string;
  balance: number;
  closed?: boolean;
}

export interface BankStore {
  readonly name: string;
  init(accounts: Account[]): Promise<void>;
  debit(opId: string, account: string, amount: number, traceId?: string): Promise<{ balance: number }>;
  credit(opId: string, account: string, amount: number, traceId?: string): Promise<{ balance: number }>;
  /** Compensation: reverts `opId` if it was applied, or cancels it if it never was. */
  reverse(opId: string, traceId?: string): Promise<void>;
  totalBalance(): Promise<number>;
  /** The outbox of this bank's account changes (published by a relay when `changes` was given). */
  readonly outbox: ReturnType<typeof outboxTable>;
}

/** Where a bank publishes the changes of its accounts (through its outbox, in the same transaction). */
export interface AccountChanges {
  topic: string;
  source: string;
}

const LOCK_CLASS_BANK_OPERATION = 7302;

export function createBankStore(pool: Pool, name: string, changes?: AccountChanges): BankStore {
  const schema = name.replace(/[^a-z0-9]/gi, "_").toLowerCase();
  const t = (table: string) => `"${schema}".${table}`;
  const outbox = outboxTable(pool, schema);

  /** The account's new state as a change event, in the transaction that changed it. */
  async function recordChange(
    client: PoolClient,
    row: { id: string; balance: string | number; closed: boolean; version: number },
    op: "created" | "updated",
    traceId?: string,
  ) {
    if (!changes) return;
    const trace = traceId ? { ...childSpan(newTrace()), traceId } : newTrace();
    await outbox.insert(client, [
      {
        topic: changes.topic,
        message: changeMessage(
          {
            aggregateType: "account",
            aggregateId: `${name}/${row.id}`,
            op,
            version: Number(row.version),
            state: { bank: name, account: row.id, balance: Number(row.balance), closed: row.closed },
          },
          { source: changes.source, trace },
        ),
      },
    ]);
  }

  function inOperation<T>(opId: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
    return withTransaction(pool, async (client) => {
      // Two-key form: a lock class of its own, so no other lock user's hash can collide.
      await client.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [
        LOCK_CLASS_BANK_OPERATION,
        `${schema}:${opId}`,
      ]);
      return work(client);
    });
  }

  async function apply(
    opId: string,
    account: string,
    delta: number,
    kind: "debit" | "credit",
    traceId?: string,
  ) {
    return inOperation(opId, async (client) => {
      const previous = await client.query(
        `SELECT kind FROM ${t("operations")} WHERE op_id = $1 OR op_id = $2`,
        [opId, `${opId}:reversal`],
      );
      if (previous.rows.some((r) => r.kind === "void" || r.kind === "reversal")) {
        throw StepFailure.business(`operation ${opId} was cancelled`, "CANCELLED");
      }
      const acct = await client.query(
        `SELECT balance, closed FROM ${t("accounts")} WHERE id = $1 FOR UPDATE`,
        [account],
      );
      const row = acct.rows[0] as { balance: string; closed: boolean } | undefined;
      if (!row) throw StepFailure.business(`no account ${account} at ${name}`, "NOT_FOUND");
      if (previous.rowCount) return { balance: Number(row.balance) };
      if (row.closed) throw StepFailure.business(`account ${account} is closed`, "ACCOUNT_CLOSED");
      const balance = Number(row.balance) + delta;
      if (balance < 0) throw StepFailure.business(`insufficient funds in ${account}`, "INSUFFICIENT_FUNDS");
      const updated = await client.query(
        `UPDATE ${t("accounts")} SET balance = $2, version = version + 1 WHERE id = $1 RETURNING *`,
        [account, balance],
      );
      await recordChange(client, updated.rows[0], "updated", traceId);
      await client.query(
        `INSERT INTO ${t("operations")} (op_id, account, amount, kind, trace_id) VALUES ($1, $2, $3, $4, $5)`,
        [opId, account, delta, kind, traceId ?? null],
      );
      return { balance };
    });
  }

  return {
    name,
    outbox,
    async init(accounts) {
      await serializedDdl(pool, schema, [
        `CREATE SCHEMA IF NOT EXISTS "${schema}"`,
        `CREATE TABLE IF NOT EXISTS ${t("accounts")} (
          id text PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0), closed boolean NOT NULL DEFAULT false)`,
        `CREATE TABLE IF NOT EXISTS ${t("operations")} (
          op_id text PRIMARY KEY, account text, amount bigint NOT NULL, kind text NOT NULL,
          at timestamptz NOT NULL DEFAULT now())`,
        // The saga's trace id, so a bank's own records lead back to the saga that moved the money.
        `ALTER TABLE ${t("operations")} ADD COLUMN IF NOT EXISTS trace_id text`,
        `ALTER TABLE ${t("accounts")} ADD COLUMN IF NOT EXISTS version int NOT NULL DEFAULT 1`,
        ...outbox.ddl,
      ]);
      await withTransaction(pool, async (client) => {
        for (const a of accounts) {
          const created = await client.query(
            `INSERT INTO ${t("accounts")} (id, balance, closed) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING RETURNING *`,
            [a.id, a.balance, a.closed ?? false],
          );
          if (created.rows[0]) await recordChange(client, created.rows[0], "created");
        }
      });
    },
    debit: (opId, account, amount, traceId) => apply(opId, account, -amount, "debit", traceId),
    credit: (opId, account, amount, traceId) => apply(opId, account, amount, "credit", traceId),
    async reverse(opId, traceId) {
      await inOperation(opId, async (client) => {
        const ops = await client.query(
          `SELECT op_id, account, amount, kind FROM ${t("operations")} WHERE op_id = ANY($1)`,
          [[opId, `${opId}:reversal`]],
        );
        if (ops.rows.some((r) => r.op_id === `${opId}:reversal`)) return; // already reversed or cancelled
        const original = ops.rows.find((r) => r.op_id === opId) as
          | { account: string; amount: string }
          | undefined;
        if (!original) {
          // The operation never landed: a void marker makes sure it never will.
          await client.query(
            `INSERT INTO ${t("operations")} (op_id, account, amount, kind, trace_id) VALUES ($1, NULL, 0, 'void', $2)`,
            [`${opId}:reversal`, traceId ?? null],
          );
          return;
        }
        const amount = -Number(original.amount);
        const updated = await client.query(
          `UPDATE ${t("accounts")} SET balance = balance + $2, version = version + 1 WHERE id = $1 RETURNING *`,
          [original.account, amount],
        );
        await recordChange(client, updated.rows[0], "updated", traceId);
        await client.query(
          `INSERT INTO ${t("operations")} (op_id, account, amount, kind, trace_id) VALUES ($1, $2, $3, 'reversal', $4)`,
          [`${opId}:reversal`, original.account, amount, traceId ?? null],
        );
      });
    },
    async totalBalance() {
      const r = await pool.query(`SELECT coalesce(sum(balance), 0)::bigint AS total FROM ${t("accounts")}`);
      return Number(r.rows[0].total);
    },
  };
}
