import { AlertsView } from "@/components/alerts/alerts-view.tsx";

export const metadata = { title: "Alerts · Sagascope" };

export default function AlertsPage() {
  return <AlertsView />;
}
