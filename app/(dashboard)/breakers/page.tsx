import { Suspense } from "react";
import { BreakerBoard } from "@/components/breakers/breaker-board.tsx";

export const metadata = { title: "Breakers · Sagascope" };

export default function BreakersPage() {
  // The selected pair and range live in the URL, which is only known in the browser.
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <BreakerBoard />
    </Suspense>
  );
}
