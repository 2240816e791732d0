import { Suspense } from "react";
import { AuditLog } from "@/components/audit/audit-log.tsx";

export const metadata = { title: "Audit log · Sagascope" };

export default function AuditPage() {
  // The log reads its filters from the URL, which is only known in the browser.
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <AuditLog />
    </Suspense>
  );
}
