import { OverviewBoard } from "@/components/overview/overview-board.tsx";

export const metadata = { title: "Overview · Sagascope" };

export default function OverviewPage() {
  return <OverviewBoard />;
}
