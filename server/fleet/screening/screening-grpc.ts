// Sanctions screening as a gRPC service (the server, with injected faults) and its client.
import * as grpc from "@grpc/grpc-js";
import { z } from "zod";
import { type Faults, withFaults } from "../../fault-switches/faults.ts";
import type { ScreenReply__Output } from "../../grpc/generated/sagascope/fleet/screening/v1/ScreenReply.ts";
import type { ScreenRequest } from "../../grpc/generated/sagascope/fleet/screening/v1/ScreenRequest.ts";
import type { ProtoGrpcType } from "../../grpc/generated/screening.ts";
import { callUnary, loadProto, toServiceError } from "../../grpc/index.ts";
import { StepFailure } from "../../sagas/index.ts";

const PROTO = "sagascope/fleet/screening/v1/screening.proto";
const Screen = z.object({
  operationId: z.string().min(1).max(300),
  account: z.string().min(1).max(100),
  amount: z.number().int().positive().max(1e12),
});

/** Accounts on the demo's sanctions list: a credit to them is flagged. */
const SANCTIONED = new Set(["B-009"]);

export function createScreeningServer(faults: () => Faults) {
  const proto = loadProto<ProtoGrpcType>(PROTO);
  const screening = withFaults(
    "screening",
    {
      screen: async (request: z.infer<typeof Screen>) => ({
        verdict: SANCTIONED.has(request.account) ? "flagged" : "clear",
      }),
    },
    faults,
  );
  const server = new grpc.Server();
  server.addService(proto.sagascope.fleet.screening.v1.Screening.service, {
    Screen: (call: grpc.ServerUnaryCall<ScreenRequest, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const parsed = Screen.safeParse(call.request);
      if (!parsed.success)
        return callback(
          toServiceError(StepFailure.business("invalid screening request", "INVALID_ARGUMENT")),
        );
      screening.screen(parsed.data).then(
        (reply) => callback(null, reply),
        (error) => callback(toServiceError(error)),
      );
    },
  });
  return {
    start: (address: string) =>
      new Promise<number>((resolve, reject) =>
        server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, port) =>
          error ? reject(error) : resolve(port),
        ),
      ),
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

export interface ScreeningClient {
  screen(request: {
    operationId: string;
    account: string;
    amount: number;
    traceparent?: string;
  }): Promise<"clear" | "flagged">;
  close(): void;
}

export function createScreeningClient(address: string, deadlineMs: number): ScreeningClient {
  const proto = loadProto<ProtoGrpcType>(PROTO);
  const client = new proto.sagascope.fleet.screening.v1.Screening(address, grpc.credentials.createInsecure());
  return {
    async screen({ traceparent, ...request }) {
      const reply = await callUnary<ScreenRequest, ScreenReply__Output>(client.Screen.bind(client), request, {
        traceparent,
        deadlineMs,
      });
      return reply.verdict === "flagged" ? "flagged" : "clear";
    },
    close: () => client.close(),
  };
}
