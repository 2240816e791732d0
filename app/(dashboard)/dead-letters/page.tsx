import { Suspense } from "react";
import { DeadLetterList } from "@/components/dead-letters/dead-letter-list.tsx";

export const metadata = { title: "Dead letters · Sagascope" };

export default function DeadLettersPage() {
  // The list reads its filters from the URL, which is only known in the browser.
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <DeadLetterList />
    </Suspense>
  );
}
