// The inter-bank transfer, orchestrated: debit at bank A, then credit at bank B. A failed
// credit re-credits A. Invariant: once every saga has ended, the banks' total is unchanged.
import { defineSaga } from "../../sagas/index.ts";

export interface TransferInput extends Record<string, unknown> {
  from: string;
  to: string;
  amount: number;
}

/** What the orchestrator needs of a bank: the calls a participant exposes. */
export interface BankParticipant {
  debit(opId: string, account: string, amount: number): Promise<{ balance: number }>;
  credit(opId: string, account: string, amount: number): Promise<{ balance: number }>;
  reverse(opId: string): Promise<void>;
}

export const TRANSFER_SAGA_TYPE = "interbank-transfer";

export function transferSaga(bankA: BankParticipant, bankB: BankParticipant, stepTimeoutMs = 2000) {
  const retry = { attempts: 3, backoffMs: 50 };
  return defineSaga<TransferInput>({
    type: TRANSFER_SAGA_TYPE,
    steps: [
      {
        name: "debit",
        service: "bank-a",
        timeoutMs: stepTimeoutMs,
        retry,
        action: async ({ sagaId, input }) => bankA.debit(`${sagaId}:debit`, input.from, input.amount),
        compensate: ({ sagaId }) => bankA.reverse(`${sagaId}:debit`),
      },
      {
        name: "credit",
        service: "bank-b",
        timeoutMs: stepTimeoutMs,
        retry,
        action: async ({ sagaId, input }) => bankB.credit(`${sagaId}:credit`, input.to, input.amount),
        compensate: ({ sagaId }) => bankB.reverse(`${sagaId}:credit`),
      },
    ],
    compensationRetry: { attempts: 8, backoffMs: 100 },
  });
}
