// Liveness: the web process answers (server/metrics/web-endpoints.ts).
import { healthResponse } from "@/server/metrics/web-endpoints.ts";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export function GET(): Response {
  return healthResponse();
}
