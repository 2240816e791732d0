import { Suspense } from "react";
import { SagaList } from "@/components/sagas/saga-list.tsx";

export const metadata = { title: "Sagas · Sagascope" };

export default function SagasPage() {
  // The list reads its filters from the URL, which is only known in the browser.
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <SagaList />
    </Suspense>
  );
}
