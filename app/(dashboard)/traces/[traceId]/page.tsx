import { TraceView } from "@/components/traces/trace-view.tsx";

export default async function TracePage({ params }: { params: Promise<{ traceId: string }> }) {
  const { traceId } = await params;
  return <TraceView traceId={decodeURIComponent(traceId)} />;
}
