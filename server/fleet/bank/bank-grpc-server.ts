// A demo bank as a gRPC service over its own ledger. Requests are validated at the edge,
// injected faults apply to money movements, and the caller's trace id is recorded.
import * as grpc from "@grpc/grpc-js";
import { z } from "zod";
import { parseTraceparent } from "../../events/index.ts";
import { type Faults, withFaults } from "../../fault-switches/faults.ts";
import type { ProtoGrpcType } from "../../grpc/generated/bank.ts";
import type { BankHandlers } from "../../grpc/generated/sagascope/fleet/bank/v1/Bank.ts";
import { loadProto, toServiceError, traceparentOf } from "../../grpc/index.ts";
import type { Logger } from "../../log.ts";
import { StepFailure } from "../../sagas/index.ts";
import type { BankStore } from "./bank-store.ts";

const MoveMoney = z.object({
  operationId: z.string().min(1).max(300),
  account: z.string().min(1).max(100),
  amount: z.number().int().positive().max(1e12),
});
const Reverse = z.object({ operationId: z.string().min(1).max(300) });

export interface BankGrpcServer {
  /** Binds `address` (port 0 picks a free one) and returns the bound port. */
  start(address: string): Promise<number>;
  stop(): Promise<void>;
}

/** Checks a credit before it is booked (bank B's sanctions screening); throws to refuse it. */
export type CreditCheck = (
  credit: { operationId: string; account: string; amount: number },
  traceparent?: string,
) => Promise<void>;

export function createBankGrpcServer(
  store: BankStore,
  faults: () => Faults,
  log: Logger,
  checkCredit?: CreditCheck,
): BankGrpcServer {
  const proto = loadProto<ProtoGrpcType>("sagascope/fleet/bank/v1/bank.proto");
  const faulty = withFaults(store.name, store, faults);
  const server = new grpc.Server();

  function parse<T>(schema: z.ZodType<T>, request: unknown): T {
    const result = schema.safeParse(request);
    if (!result.success) {
      const problems = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
      throw new StepFailure("business", `invalid request: ${problems}`, "INVALID_ARGUMENT");
    }
    return result.data;
  }

  /** Runs a handler and answers with its result or its failure as a status. */
  function answer<Req, Res>(
    work: (request: Req, traceId: string | undefined, traceparent: string | undefined) => Promise<Res>,
  ) {
    return (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => {
      const traceparent = traceparentOf(call.metadata);
      const traceId = traceparent ? parseTraceparent(traceparent)?.traceId : undefined;
      work(call.request, traceId, traceparent).then(
        (reply) => callback(null, reply),
        (error: unknown) => {
          if (!(error instanceof StepFailure)) log.error("call failed", { error, traceId });
          callback(toServiceError(error));
        },
      );
    };
  }

  const handlers: BankHandlers = {
    Debit: answer(async (request, traceId) => {
      const r = parse(MoveMoney, request);
      return faulty.debit(r.operationId, r.account, r.amount, traceId);
    }),
    Credit: answer(async (request, traceId, traceparent) => {
      const r = parse(MoveMoney, request);
      await checkCredit?.(r, traceparent);
      return faulty.credit(r.operationId, r.account, r.amount, traceId);
    }),
    Reverse: answer(async (request, traceId) => {
      await faulty.reverse(parse(Reverse, request).operationId, traceId);
      return {};
    }),
    TotalBalance: answer(async () => ({ total: await store.totalBalance() })),
  };
  server.addService(proto.sagascope.fleet.bank.v1.Bank.service, handlers);

  return {
    start: (address) =>
      new Promise((resolve, reject) => {
        server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, port) =>
          error ? reject(error) : resolve(port),
        );
      }),
    stop: () =>
      new Promise((resolve) => {
        // In-flight calls finish; a server that does not drain in 5 s is forced.
        const force = setTimeout(() => server.forceShutdown(), 5000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
