import { DeadLetterList } from "@/components/dead-letters/dead-letter-list.tsx";

export const metadata = { title: "Dead letters · Sagascope" };

export default function DeadLettersPage() {
  return <DeadLetterList />;
}
