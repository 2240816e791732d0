import { BreakerBoard } from "@/components/breakers/breaker-board.tsx";

export const metadata = { title: "Breakers · Sagascope" };

export default function BreakersPage() {
  return <BreakerBoard />;
}
