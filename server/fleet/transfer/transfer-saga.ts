// The inter-bank transfer, orchestrated: debit at bank A, then credit at bank B. A failed
// credit re-credits A. Invariant: once every saga has ended, the banks' total is unchanged.
import { z } from "zod";
import { defineSaga } from "../../sagas/index.ts";

/** A transfer's input; an operator's edit of it is checked against this. */
export const TransferInputSchema = z
  .object({
    from: z.string().regex(/^A-\d{3}$/, "an account of bank A, like A-001"),
    to: z.string().regex(/^B-\d{3}$/, "an account of bank B, like B-001"),
    amount: z.number().int().positive().max(1_000_000),
  })
  .strict();

export interface TransferInput extends Record<string, unknown> {
  from: string;
  to: string;
  amount: number;
}

export interface MoveMoney {
  opId: string;
  account: string;
  amount: number;
  traceparent?: string;
}

/** What the orchestrator needs of a bank: the calls its gRPC service exposes. */
export interface BankParticipant {
  debit(move: MoveMoney): Promise<{ balance: number }>;
  credit(move: MoveMoney): Promise<{ balance: number }>;
  reverse(opId: string, traceparent?: string): Promise<void>;
}

export const TRANSFER_SAGA_TYPE = "interbank-transfer";

export function transferSaga(bankA: BankParticipant, bankB: BankParticipant, stepTimeoutMs = 2000) {
  const retry = { attempts: 3, backoffMs: 50 };
  return defineSaga<TransferInput>({
    type: TRANSFER_SAGA_TYPE,
    input: TransferInputSchema,
    // Once the debit may have landed, only where the money goes may change (the amount and
    // the debited account were used).
    editableOnceLanded: ["to"],
    steps: [
      {
        name: "debit",
        service: "bank-a",
        timeoutMs: stepTimeoutMs,
        retry,
        action: async ({ sagaId, input, traceparent }) =>
          bankA.debit({ opId: `${sagaId}:debit`, account: input.from, amount: input.amount, traceparent }),
        compensate: ({ sagaId, traceparent }) => bankA.reverse(`${sagaId}:debit`, traceparent),
      },
      {
        name: "credit",
        service: "bank-b",
        timeoutMs: stepTimeoutMs,
        retry,
        action: async ({ sagaId, input, traceparent }) =>
          bankB.credit({ opId: `${sagaId}:credit`, account: input.to, amount: input.amount, traceparent }),
        compensate: ({ sagaId, traceparent }) => bankB.reverse(`${sagaId}:credit`, traceparent),
      },
    ],
    // A compensation must land: it is retried for about a minute before the saga is
    // declared failed (and left to an operator).
    compensationRetry: { attempts: 60, backoffMs: 50, maxBackoffMs: 1000 },
  });
}
