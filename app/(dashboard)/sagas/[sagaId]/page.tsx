import { SagaDetailView } from "@/components/sagas/saga-detail.tsx";

export default async function SagaPage({ params }: { params: Promise<{ sagaId: string }> }) {
  const { sagaId } = await params;
  return <SagaDetailView sagaId={decodeURIComponent(sagaId)} />;
}
