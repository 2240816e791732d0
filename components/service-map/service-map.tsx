"use client";
// The service map page: services, Kafka topics and Sagascope's own consumers as an SVG map,
// read afresh every three seconds and whenever a breaker changes, with its legend and every
// connection as a table; a store that cannot be read is said plainly above what is left.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useTRPC } from "@/components/trpc.tsx";
import { ErrorPanel } from "@/components/ui/error-panel.tsx";
import { LiveIndicator } from "@/components/ui/live-indicator.tsx";
import { MapConnections } from "./map-connections.tsx";
import { MapGraph } from "./map-graph.tsx";
import { MapLegend } from "./map-legend.tsx";
import styles from "./service-map.module.css";

const REFRESH_MS = 3000;
/** A breaker change refreshes the map at once, unless it was read this recently. */
const CHANGE_DEBOUNCE_MS = 1000;
const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`;

export function ServiceMapView() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const map = useQuery(
    trpc.serviceMap.read.queryOptions(undefined, {
      refetchInterval: REFRESH_MS,
      retry: false,
      placeholderData: (previous) => previous,
    }),
  );
  const live = useSubscription(
    trpc.breakers.onChange.subscriptionOptions(undefined, {
      onData: () => {
        const key = trpc.serviceMap.read.queryKey();
        const readAt = queryClient.getQueryState(key)?.dataUpdatedAt ?? 0;
        if (Date.now() - readAt > CHANGE_DEBOUNCE_MS)
          void queryClient.invalidateQueries({ queryKey: key }, { cancelRefetch: false });
      },
    }),
  );
  const data = map.data;

  return (
    <section className={styles.page}>
      <div className="toolbar">
        <h1>Service map</h1>
        <LiveIndicator status={live.status} />
      </div>
      <p className="muted">
        Who calls whom over gRPC (each call through its circuit breaker), who publishes to and reads which
        Kafka topic, and Sagascope's own ingester and projector
        {data
          ? `: saga events of the last ${minutes(data.windows.trafficMs)}, breaker figures of the last ${minutes(data.windows.breakerStatsMs)}`
          : ""}
        . Choose a service for its sagas, a gRPC call for its breaker.
      </p>
      {map.isError ? (
        <ErrorPanel
          title={
            data ? "The map could not be refreshed; showing the last read" : "The map could not be loaded"
          }
          message={map.error.message}
        />
      ) : null}
      {data?.problems.map((problem) => (
        <ErrorPanel key={problem} title="Part of the map is missing" message={problem} />
      ))}
      {!data ? (
        map.isPending ? (
          <p className="muted" data-testid="map-loading">
            Loading…
          </p>
        ) : null
      ) : data.nodes.length === 0 ? (
        <div className="panel" data-testid="map-empty">
          <strong>Nothing to draw yet.</strong>
          <p className="muted">
            No saga event was stored in the last {minutes(data.windows.trafficMs)}, no breaker pair is
            registered and no projector has reported. Services appear as soon as they publish saga events or
            call each other through a breaker (docs/events.md, docs/breakers.md).
          </p>
        </div>
      ) : (
        <div className={map.isError ? styles.stale : undefined}>
          <MapGraph map={data} />
          <MapLegend />
          <MapConnections map={data} />
        </div>
      )}
    </section>
  );
}
