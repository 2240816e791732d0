// The inter-bank transfer world: two banks with their own schemas, the orchestrator's
// saga definition over them, and a random transfer for the load generator.
import { randomUUID } from "node:crypto";
import type { Pool } from "../../db/pool.ts";
import type { SagaEvent } from "../../events/index.ts";
import { runSaga, type SagaOutcome } from "../../sagas/index.ts";
import { type Account, type BankStore, createBankStore } from "../bank/bank-store.ts";
import { type Faults, noFaults, withFaults } from "../faults.ts";
import { type TransferInput, transferSaga } from "./transfer-saga.ts";

export const ACCOUNTS_PER_BANK = 10;
export const OPENING_BALANCE = 10_000;
/** Bank B's last account is closed: a credit to it is a business failure, compensated. */
export const CLOSED_ACCOUNT = `B-${String(ACCOUNTS_PER_BANK).padStart(3, "0")}`;

const accounts = (prefix: string): Account[] =>
  Array.from({ length: ACCOUNTS_PER_BANK }, (_, i) => {
    const id = `${prefix}-${String(i + 1).padStart(3, "0")}`;
    return { id, balance: OPENING_BALANCE, closed: id === CLOSED_ACCOUNT };
  });

export interface TransferWorld {
  bankA: BankStore;
  bankB: BankStore;
  faults: { "bank-a": Faults; "bank-b": Faults };
  init(): Promise<void>;
  /** Runs one random transfer; `failureRate` is the share sent to the closed account. */
  runRandomTransfer(failureRate: number): Promise<{ sagaId: string; outcome: SagaOutcome }>;
  totalBalance(): Promise<number>;
}

export function createTransferWorld(
  pool: Pool,
  deps: { emit: (event: SagaEvent) => Promise<void>; random?: () => number; stepTimeoutMs?: number },
): TransferWorld {
  const random = deps.random ?? Math.random;
  const bankA = createBankStore(pool, "bank_a");
  const bankB = createBankStore(pool, "bank_b");
  const faults = { "bank-a": noFaults(), "bank-b": noFaults() };
  const saga = transferSaga(
    withFaults("bank-a", bankA, () => faults["bank-a"], random),
    withFaults("bank-b", bankB, () => faults["bank-b"], random),
    deps.stepTimeoutMs,
  );
  const pick = (prefix: string, n: number) =>
    `${prefix}-${String(1 + Math.floor(random() * n)).padStart(3, "0")}`;

  return {
    bankA,
    bankB,
    faults,
    async init() {
      await bankA.init(accounts("A"));
      await bankB.init(accounts("B"));
    },
    async runRandomTransfer(failureRate) {
      const sagaId = `transfer-${randomUUID()}`;
      const input: TransferInput = {
        from: pick("A", ACCOUNTS_PER_BANK),
        to: random() < failureRate ? CLOSED_ACCOUNT : pick("B", ACCOUNTS_PER_BANK - 1),
        amount: 1 + Math.floor(random() * 200),
      };
      const businessKey = `TX-${sagaId.slice(9, 17).toUpperCase()}`;
      const outcome = await runSaga(
        saga,
        { sagaId, input, businessKey },
        {
          emit: deps.emit,
          source: "/fleet/transfer-orchestrator",
        },
      );
      return { sagaId, outcome };
    },
    async totalBalance() {
      return (await bankA.totalBalance()) + (await bankB.totalBalance());
    },
  };
}
