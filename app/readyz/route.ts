// Readiness: Postgres, Redis and Kafka answer (server/metrics/web-endpoints.ts).
import { readinessResponse } from "@/server/metrics/web-endpoints.ts";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export function GET(): Promise<Response> {
  return readinessResponse();
}
