// A bank as the transfer orchestrator calls it: through the breaker of the pair
// orchestrator→bank. A refused debit or credit compensates the saga at once; a refused
// reversal is queued (the saga waits in its store and tries again after its backoff).
import { type Breaker, callWithPolicy } from "../../breakers/index.ts";
import type { BankParticipant } from "./transfer-saga.ts";

export function guardedBank(bank: BankParticipant, breaker: Breaker): BankParticipant {
  return {
    debit: (move) => callWithPolicy(breaker, () => bank.debit(move), "compensate"),
    credit: (move) => callWithPolicy(breaker, () => bank.credit(move), "compensate"),
    reverse: (opId, traceparent) => callWithPolicy(breaker, () => bank.reverse(opId, traceparent), "queue"),
  };
}
