import { SagaList } from "@/components/sagas/saga-list.tsx";

export const metadata = { title: "Sagas · Sagascope" };

export default function SagasPage() {
  return <SagaList />;
}
