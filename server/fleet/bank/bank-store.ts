// A demo bank's own ledger, in its own schema: accounts and an idempotent operation log.
// Every operation is keyed by an operation id and serialised on it, so a retried debit
// applies once and a reversal that overtakes its operation cancels it for good.
import type { Pool, PoolClient } from "../../db/pool.ts";
import { serializedDdl } from "../../db/serialized-ddl.ts";
import { withTransaction } from "../../db/transaction.ts";
import { StepFailure } from "../../sagas/index.ts";

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
}

const LOCK_CLASS_BANK_OPERATION = 7302;

export function createBankStore(pool: Pool, name: string): BankStore {
  const schema = name.replace(/[^a-z0-9]/gi, "_").toLowerCase();
  const t = (table: string) => `"${schema}".${table}`;

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
      await client.query(`UPDATE ${t("accounts")} SET balance = $2 WHERE id = $1`, [account, balance]);
      await client.query(
        `INSERT INTO ${t("operations")} (op_id, account, amount, kind, trace_id) VALUES ($1, $2, $3, $4, $5)`,
        [opId, account, delta, kind, traceId ?? null],
      );
      return { balance };
    });
  }

  return {
    name,
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
      ]);
      for (const a of accounts) {
        await pool.query(
          `INSERT INTO ${t("accounts")} (id, balance, closed) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`,
          [a.id, a.balance, a.closed ?? false],
        );
      }
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
        await client.query(`UPDATE ${t("accounts")} SET balance = balance + $2 WHERE id = $1`, [
          original.account,
          amount,
        ]);
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
