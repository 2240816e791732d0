// The inter-bank transfer world: the accounts the banks open with, the transfer saga over
// the banks' participant APIs, and random transfers for the load generator.
import { randomUUID } from "node:crypto";
import type { SagaDefinition, SagaRun } from "../../sagas/index.ts";
import type { Account } from "../bank/bank-store.ts";
import { type BankParticipant, type TransferInput, transferSaga } from "./transfer-saga.ts";

export const ACCOUNTS_PER_BANK = 10;
export const OPENING_BALANCE = 10_000;
/** Bank B's last account is closed: a credit to it is a business failure, compensated. */
export const CLOSED_ACCOUNT = `B-${String(ACCOUNTS_PER_BANK).padStart(3, "0")}`;

export const BANK_PREFIX = { "bank-a": "A", "bank-b": "B" } as const;

/** The accounts a demo bank opens with. */
export function openingAccounts(bank: keyof typeof BANK_PREFIX): Account[] {
  return Array.from({ length: ACCOUNTS_PER_BANK }, (_, i) => {
    const id = `${BANK_PREFIX[bank]}-${String(i + 1).padStart(3, "0")}`;
    return { id, balance: OPENING_BALANCE, closed: id === CLOSED_ACCOUNT };
  });
}

export interface TransferWorld {
  saga: SagaDefinition<TransferInput>;
  /** A random transfer; `failureRate` is the share sent to the closed account. */
  randomTransfer(failureRate: number): SagaRun<TransferInput>;
}

export function createTransferWorld(deps: {
  bankA: BankParticipant;
  bankB: BankParticipant;
  random?: () => number;
  stepTimeoutMs?: number;
}): TransferWorld {
  const random = deps.random ?? Math.random;
  const pick = (prefix: string, n: number) =>
    `${prefix}-${String(1 + Math.floor(random() * n)).padStart(3, "0")}`;
  return {
    saga: transferSaga(deps.bankA, deps.bankB, deps.stepTimeoutMs),
    randomTransfer(failureRate) {
      const sagaId = `transfer-${randomUUID()}`;
      return {
        sagaId,
        businessKey: `TX-${sagaId.slice(9, 17).toUpperCase()}`,
        input: {
          from: pick("A", ACCOUNTS_PER_BANK),
          to: random() < failureRate ? CLOSED_ACCOUNT : pick("B", ACCOUNTS_PER_BANK - 1),
          amount: 1 + Math.floor(random() * 200),
        },
      };
    },
  };
}
