import { Suspense } from "react";
import { KafkaView } from "@/components/kafka/kafka-view.tsx";

export const metadata = { title: "Kafka · Sagascope" };

export default function KafkaPage() {
  // `?group=` (an alert's link) is only known in the browser.
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <KafkaView />
    </Suspense>
  );
}
