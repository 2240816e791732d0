// The orchestrator's side of a bank: the participant calls over gRPC, with deadlines and
// the step's trace context.
import * as grpc from "@grpc/grpc-js";
import type { ProtoGrpcType } from "../../grpc/generated/bank.ts";
import type { MoveMoneyReply__Output } from "../../grpc/generated/sagascope/fleet/bank/v1/MoveMoneyReply.ts";
import type { MoveMoneyRequest } from "../../grpc/generated/sagascope/fleet/bank/v1/MoveMoneyRequest.ts";
import type { ReverseRequest } from "../../grpc/generated/sagascope/fleet/bank/v1/ReverseRequest.ts";
import type { TotalBalanceReply__Output } from "../../grpc/generated/sagascope/fleet/bank/v1/TotalBalanceReply.ts";
import { callUnary, loadProto } from "../../grpc/index.ts";
import type { BankParticipant } from "../transfer/transfer-saga.ts";

export interface BankClient extends BankParticipant {
  totalBalance(): Promise<number>;
  close(): void;
}

export function createBankGrpcClient(address: string, deadlineMs: number): BankClient {
  const proto = loadProto<ProtoGrpcType>("sagascope/fleet/bank/v1/bank.proto");
  const client = new proto.sagascope.fleet.bank.v1.Bank(address, grpc.credentials.createInsecure());
  const options = (traceparent?: string) => ({ traceparent, deadlineMs });
  return {
    async debit({ opId, account, amount, traceparent }) {
      const reply = await callUnary<MoveMoneyRequest, MoveMoneyReply__Output>(
        client.Debit.bind(client),
        { operationId: opId, account, amount },
        options(traceparent),
      );
      return { balance: reply.balance };
    },
    async credit({ opId, account, amount, traceparent }) {
      const reply = await callUnary<MoveMoneyRequest, MoveMoneyReply__Output>(
        client.Credit.bind(client),
        { operationId: opId, account, amount },
        options(traceparent),
      );
      return { balance: reply.balance };
    },
    async reverse(opId, traceparent) {
      await callUnary<ReverseRequest, unknown>(
        client.Reverse.bind(client),
        { operationId: opId },
        options(traceparent),
      );
    },
    async totalBalance() {
      return (
        await callUnary<object, TotalBalanceReply__Output>(client.TotalBalance.bind(client), {}, options())
      ).total;
    },
    close: () => client.close(),
  };
}
