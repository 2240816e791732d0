import { Suspense } from "react";
import { OperationsTable } from "@/components/operations/operations-table.tsx";

export const metadata = { title: "Operations · Sagascope" };

export default function OperationsPage() {
  return (
    <section>
      <h1>Bulk operations</h1>
      <Suspense>
        <OperationsTable />
      </Suspense>
    </section>
  );
}
