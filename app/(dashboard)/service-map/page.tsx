import { ServiceMapView } from "@/components/service-map/service-map.tsx";

export const metadata = { title: "Service map · Sagascope" };

export default function ServiceMapPage() {
  return <ServiceMapView />;
}
