import { FaultPanel } from "@/components/fleet/fault-panel.tsx";

export const metadata = { title: "Faults (demo) · Sagascope" };

export default function FaultsPage() {
  return <FaultPanel />;
}
