// Prometheus scrapes the dashboard's figures here (server/metrics/web-endpoints.ts).
import { metricsResponse } from "@/server/metrics/web-endpoints.ts";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export function GET(req: Request): Promise<Response> {
  return metricsResponse(req);
}
