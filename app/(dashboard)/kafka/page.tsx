import { KafkaView } from "@/components/kafka/kafka-view.tsx";

export const metadata = { title: "Kafka · Sagascope" };

export default function KafkaPage() {
  return <KafkaView />;
}
