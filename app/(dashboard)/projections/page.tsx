import { ProjectionView } from "@/components/projections/projection-view.tsx";

export const metadata = { title: "Projections · Sagascope" };

export default function ProjectionsPage() {
  return <ProjectionView />;
}
