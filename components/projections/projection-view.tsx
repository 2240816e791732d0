"use client";
// Every projection with its lag, the chosen one (?projection=) in detail: its lag per
// partition and over time; for Sagascope's own projector also the order view it serves and
// how fresh that is. Refreshed every two seconds.
import { useQuery } from "@tanstack/react-query";
import { useSearchParams } from "next/navigation";
import { useTRPC } from "@/components/trpc.tsx";
import { ErrorPanel } from "@/components/ui/error-panel.tsx";
import { formatAge, formatDuration, formatTime, shortId } from "@/components/ui/format.ts";
import { DeclareProjection } from "./declare-projection.tsx";
import { LagCharts } from "./lag-charts.tsx";
import { PartitionLagTable } from "./partition-lag-table.tsx";
import { ProjectionList } from "./projection-list.tsx";
import { SeenLookup } from "./seen-lookup.tsx";

export function ProjectionView() {
  const trpc = useTRPC();
  const list = useQuery(trpc.projections.list.queryOptions(undefined, { refetchInterval: 2000 }));
  const asked = useSearchParams().get("projection");
  const builtIn = list.data?.find((p) => p.kind === "built-in")?.name;
  const selected = asked ?? builtIn ?? list.data?.[0]?.name;
  return (
    <section>
      <div className="toolbar">
        <h1>Projections</h1>
      </div>
      <p className="muted">
        Read models kept by consumer groups: Sagascope's own projector, groups declared to be projections
        (measured from their committed offsets), and projectors that report their own checkpoints
        (docs/events.md, "Projections").
      </p>
      {list.isError ? (
        <ErrorPanel title="The projections could not be loaded" message={list.error.message} />
      ) : !list.data ? (
        <p className="muted">Loading…</p>
      ) : list.data.length === 0 ? (
        <div className="panel">
          <strong>No projection yet.</strong>
          <p className="muted">
            Start Sagascope's projector (<code>npm run projector</code>, part of <code>npm run demo</code>),
            declare a consumer group below, or publish checkpoints from your own projector (docs/events.md).
          </p>
        </div>
      ) : (
        <ProjectionList projections={list.data} selected={selected ?? ""} />
      )}
      <DeclareProjection />
      <SeenLookup />
      {selected === undefined ? null : selected === builtIn ? (
        <BuiltInProjection name={selected} />
      ) : (
        <OtherProjection name={selected} />
      )}
    </section>
  );
}

function OtherProjection({ name }: { name: string }) {
  const trpc = useTRPC();
  const lag = useQuery(trpc.projections.lag.queryOptions({ projection: name }, { refetchInterval: 2000 }));
  return (
    <>
      <h2 data-testid="selected-projection">{name}</h2>
      <LagCharts projection={name} />
      <h3>Lag per partition</h3>
      {lag.isError ? (
        <ErrorPanel title="The lag could not be loaded" message={lag.error.message} />
      ) : lag.data ? (
        <PartitionLagTable lag={lag.data} />
      ) : (
        <p className="muted">Loading…</p>
      )}
    </>
  );
}

function BuiltInProjection({ name }: { name: string }) {
  const trpc = useTRPC();
  const overview = useQuery(trpc.projections.overview.queryOptions({ limit: 50 }, { refetchInterval: 2000 }));
  const data = overview.data;
  const now = Date.now();
  const totalLag = data?.lag.reduce((n, l) => n + l.offsetLag, 0) ?? 0;

  return (
    <>
      <h2 data-testid="selected-projection">{name}</h2>
      <p className="muted">
        Sagascope's own projector. Its order view joins orders, payments, stock reservations and shipments
        from four services' change events; it never reads their databases. It is as fresh as the newest change
        it has applied.
      </p>
      {overview.isError ? (
        <ErrorPanel title="The projection could not be loaded" message={overview.error.message} />
      ) : overview.isPending || !data ? (
        <p className="muted">Loading…</p>
      ) : data.generation === null ? (
        <div className="panel">
          <strong>No read model yet.</strong>
          <p className="muted">
            Start the projector (<code>npm run projector</code>, part of <code>npm run demo</code>); see
            docs/projections.md.
          </p>
        </div>
      ) : (
        <>
          <p data-testid="freshness">
            Generation {data.generation} · newest change applied{" "}
            {data.newestAppliedAt ? (
              <span title={formatTime(data.newestAppliedAt)}>
                {formatDuration(Math.max(0, now - data.newestAppliedAt.getTime()))} ago
              </span>
            ) : (
              "never"
            )}{" "}
            · <span data-testid="total-lag">{totalLag}</span> changes behind
          </p>
          <LagCharts projection={name} />
          <h2>Lag per partition</h2>
          {data.lag.length === 0 ? (
            <p className="muted">No checkpoint received yet (the projector publishes one every 5 s).</p>
          ) : (
            <table className="grid" data-testid="projection-lag">
              <thead>
                <tr>
                  <th>Topic</th>
                  <th>Partition</th>
                  <th>Offset lag</th>
                  <th>Time lag</th>
                  <th>Oldest waiting</th>
                  <th>Sampled</th>
                </tr>
              </thead>
              <tbody>
                {data.lag.map((l) => (
                  <tr
                    key={`${l.topic}/${l.partition}`}
                    data-offset-lag={l.offsetLag}
                    data-oldest-waiting-ms={l.oldestUnappliedAgeMs ?? ""}
                    data-sampled-at={l.sampledAt.getTime()}
                  >
                    <td className="mono small">{l.topic}</td>
                    <td>{l.partition}</td>
                    <td className={l.offsetLag > 0 ? "fail" : ""}>{l.offsetLag}</td>
                    <td>{l.timeLagMs === null ? "—" : formatDuration(l.timeLagMs)}</td>
                    <td>{l.oldestUnappliedAgeMs === null ? "—" : formatDuration(l.oldestUnappliedAgeMs)}</td>
                    <td title={formatTime(l.sampledAt)}>{formatAge(l.sampledAt, now)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h2>Order view</h2>
          {data.orders.length === 0 ? (
            <div className="panel">
              <strong>No orders projected yet.</strong>
              <p className="muted">Orders appear once the checkout services publish their changes.</p>
            </div>
          ) : (
            <table className="grid" data-testid="order-view">
              <thead>
                <tr>
                  <th>Order</th>
                  <th>Customer</th>
                  <th>Item</th>
                  <th>Amount</th>
                  <th>Order</th>
                  <th>Payment</th>
                  <th>Stock</th>
                  <th>Shipment</th>
                  <th>Updated</th>
                </tr>
              </thead>
              <tbody>
                {data.orders.map((o) => (
                  <tr key={o.orderId} data-order-id={o.orderId}>
                    <td className="mono" title={o.orderId}>
                      {shortId(o.orderId, 14)}
                    </td>
                    <td>{o.customerId ?? "—"}</td>
                    <td>{o.sku ? `${o.quantity ?? "?"} × ${o.sku}` : "—"}</td>
                    <td>{o.amountCents === null ? "—" : (o.amountCents / 100).toFixed(2)}</td>
                    <td>{o.orderStatus ?? "—"}</td>
                    <td>{o.paymentStatus ?? "—"}</td>
                    <td>{o.reservationStatus ?? "—"}</td>
                    <td className="mono small">{o.shipmentId ?? "—"}</td>
                    <td title={formatTime(o.updatedAt)}>{formatAge(o.updatedAt, now)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </>
  );
}
