import { ViewsTable } from "@/components/views/views-table.tsx";

export const metadata = { title: "Views · Sagascope" };

export default function ViewsPage() {
  return (
    <section>
      <h1>Saved views</h1>
      <ViewsTable />
    </section>
  );
}
