import { Suspense } from "react";
import { ProjectionView } from "@/components/projections/projection-view.tsx";

export const metadata = { title: "Projections · Sagascope" };

export default function ProjectionsPage() {
  // The chosen projection is in the URL, which is only known in the browser.
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <ProjectionView />
    </Suspense>
  );
}
