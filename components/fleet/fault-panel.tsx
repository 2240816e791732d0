"use client";
// The demo fleet's fault panel: per service an error rate, added latency, a crash and a
// clear; the projector's pause switch. Demo mode only (the server refuses otherwise), for
// operators and admins; every change is an audited action with its own idempotency key.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRef, useState } from "react";
import { ActionResult } from "@/components/actions/action-result.tsx";
import { ConfirmDialog } from "@/components/actions/confirm-dialog.tsx";
import { newIdempotencyKey, useActionStatus } from "@/components/actions/use-action.ts";
import { useMe } from "@/components/auth/use-me.ts";
import { useTRPC } from "@/components/trpc.tsx";
import { ErrorPanel } from "@/components/ui/error-panel.tsx";
import { formatAge } from "@/components/ui/format.ts";
import type { ServiceFaultState } from "@/server/actions/fault-state.ts";
import styles from "./fault-panel.module.css";

const REFRESH_MS = 3_000;
type Change = { errorRate?: number; latencyMs?: number; crash?: true; clear?: true; paused?: boolean };

/**
 * One key per intent: sending the same change again after a lost answer reuses the key (the
 * server acts once); a different change, or the same one after it was answered, is new.
 */
function useIntentKeys() {
  const last = useRef<{ signature: string; key: string } | undefined>(undefined);
  return {
    keyFor(change: Change) {
      const signature = JSON.stringify(change);
      if (last.current?.signature !== signature) last.current = { signature, key: newIdempotencyKey() };
      return last.current.key;
    },
    answered() {
      last.current = undefined;
    },
  };
}

/** Sends a service's fault changes and follows the answer. */
function useFaultChange(service: ServiceFaultState["service"]) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const keys = useIntentKeys();
  const mutation = useMutation(
    trpc.actions.faults.mutationOptions({
      // Waited for, so that the inputs show the new settings as soon as the draft is dropped.
      onSuccess: () => {
        keys.answered();
        return queryClient.invalidateQueries({ queryKey: trpc.actions.faultsState.queryKey() });
      },
    }),
  );
  const status = useActionStatus(mutation.data);
  return {
    send: (change: Change, onDone?: () => void) =>
      mutation.mutate({ service, ...change, idempotencyKey: keys.keyFor(change) }, { onSuccess: onDone }),
    busy: mutation.isPending,
    result: (
      <div data-action-id={status?.actionId} data-testid="fault-result">
        <ActionResult status={status} error={mutation.error?.message} />
      </div>
    ),
  };
}

function InForce({ state }: { state: ServiceFaultState }) {
  const parts = [
    state.errorRate !== null && `error rate ${Math.round(state.errorRate * 1000) / 10}%`,
    state.latencyMs !== null && `+${state.latencyMs} ms`,
    state.slowRate !== null &&
      `${Math.round(state.slowRate * 100)}% slow calls${state.slowMs ? ` (${state.slowMs} ms)` : ""}`,
    state.paused !== null && (state.paused ? "paused" : "running"),
  ].filter(Boolean);
  return (
    <div data-testid="faults-in-force">
      {parts.length > 0 ? (
        parts.join(" · ")
      ) : (
        <span className="muted">nothing injected (its own settings)</span>
      )}
      {state.crashOrderedAt && (
        <div className="muted small" title={state.crashOrderedAt.toLocaleString()}>
          crash ordered {formatAge(state.crashOrderedAt)}
        </div>
      )}
      {state.problem && <div className={`small ${styles.warn}`}>{state.problem}</div>}
    </div>
  );
}

/** What the inputs hold, as typed; checked before sending. */
function parseDraft(errorRate: string, latencyMs: string): { change?: Change; problem?: string } {
  const rate = Number(errorRate);
  const latency = Number(latencyMs);
  if (errorRate.trim() === "" || !Number.isFinite(rate) || rate < 0 || rate > 100)
    return { problem: "an error rate from 0 to 100%" };
  if (latencyMs.trim() === "" || !Number.isInteger(latency) || latency < 0 || latency > 60_000)
    return { problem: "a latency of 0 to 60 000 whole ms" };
  return { change: { errorRate: rate / 100, latencyMs: latency } };
}

function ServiceRow({ state, canAct }: { state: ServiceFaultState; canAct: boolean }) {
  const { service } = state;
  const fault = useFaultChange(service);
  // What the operator typed, until applied; otherwise the inputs follow what is in force.
  const [draft, setDraft] = useState<{ errorRate?: string; latencyMs?: string }>({});
  const [confirmCrash, setConfirmCrash] = useState(false);
  const errorRate = draft.errorRate ?? String(Math.round((state.errorRate ?? 0) * 1000) / 10);
  const latencyMs = draft.latencyMs ?? String(state.latencyMs ?? 0);
  const parsed = parseDraft(errorRate, latencyMs);
  const apply = (change: Change) => fault.send(change, () => setDraft({}));
  return (
    <tr data-service={service}>
      <th scope="row" className="mono">
        {service}
      </th>
      <td>
        <InForce state={state} />
      </td>
      {canAct && (
        <td>
          <div className={styles.controls}>
            <span className={styles.rate}>
              <input
                type="range"
                min={0}
                max={100}
                step={1}
                value={Number.isFinite(Number(errorRate)) ? Number(errorRate) : 0}
                aria-label={`Error rate of ${service}`}
                onChange={(e) => setDraft((d) => ({ ...d, errorRate: e.target.value }))}
              />
              <input
                type="number"
                min={0}
                max={100}
                step="any"
                value={errorRate}
                aria-label={`Error rate of ${service} in %`}
                className={styles.number}
                onChange={(e) => setDraft((d) => ({ ...d, errorRate: e.target.value }))}
              />
              %
            </span>
            <label className={styles.latency}>
              +
              <input
                type="number"
                min={0}
                max={60_000}
                step={1}
                value={latencyMs}
                aria-label={`Added latency of ${service} in ms`}
                className={styles.number}
                onChange={(e) => setDraft((d) => ({ ...d, latencyMs: e.target.value }))}
              />
              ms
            </label>
            <button
              type="button"
              disabled={fault.busy || !parsed.change}
              onClick={() => parsed.change && apply(parsed.change)}
            >
              Apply
            </button>
            <button
              type="button"
              className="danger"
              disabled={fault.busy}
              onClick={() => setConfirmCrash(true)}
            >
              Crash…
            </button>
            <button type="button" disabled={fault.busy} onClick={() => apply({ clear: true })}>
              Clear
            </button>
          </div>
          {parsed.problem && (
            <p className="inline-error small" role="alert">
              Give {parsed.problem}.
            </p>
          )}
          {fault.result}
          {confirmCrash && (
            <ConfirmDialog
              title={`Crash ${service}?`}
              confirmLabel={`Crash ${service}`}
              busy={fault.busy}
              onCancel={() => setConfirmCrash(false)}
              onConfirm={() => {
                setConfirmCrash(false);
                fault.send({ crash: true });
              }}
            >
              <p>
                {service} exits at once, as a crash would; the demo restarts it. Calls in flight fail, sagas
                time out or compensate, and its callers&apos; breakers may open.
              </p>
            </ConfirmDialog>
          )}
        </td>
      )}
    </tr>
  );
}

function ProjectorRow({ state, canAct }: { state: ServiceFaultState; canAct: boolean }) {
  const fault = useFaultChange("projector");
  return (
    <tr data-service="projector">
      <th scope="row" className="mono">
        projector
      </th>
      <td>
        <InForce state={{ ...state, paused: state.paused ?? false }} />
      </td>
      {canAct && (
        <td>
          <div className={styles.controls}>
            <button
              type="button"
              disabled={fault.busy || state.paused === true}
              onClick={() => fault.send({ paused: true })}
            >
              Pause
            </button>
            <button
              type="button"
              disabled={fault.busy || state.paused !== true}
              onClick={() => fault.send({ paused: false })}
            >
              Resume
            </button>
            <span className="muted small">
              Paused, it stops applying changes and keeps reporting: its lag grows on the projections page.
            </span>
          </div>
          {fault.result}
        </td>
      )}
    </tr>
  );
}

function FaultTable({ canAct }: { canAct: boolean }) {
  const trpc = useTRPC();
  const state = useQuery({ ...trpc.actions.faultsState.queryOptions(), refetchInterval: REFRESH_MS });
  if (state.isError)
    return <ErrorPanel title="The fault settings could not be read" message={state.error.message} />;
  if (state.isPending) return <p className="muted">Loading…</p>;
  const services = state.data.services.filter((s) => s.service !== "projector");
  const projector = state.data.services.find((s) => s.service === "projector");
  return (
    <table className="grid" data-testid="fault-table">
      <thead>
        <tr>
          <th>Service</th>
          <th>In force</th>
          {canAct && <th>Change (error rate · added latency)</th>}
        </tr>
      </thead>
      <tbody>
        {services.map((s) => (
          <ServiceRow key={s.service} state={s} canAct={canAct} />
        ))}
        {projector && <ProjectorRow state={projector} canAct={canAct} />}
      </tbody>
    </table>
  );
}

export function FaultPanel() {
  const me = useMe();
  if (me.isError) return <ErrorPanel title="Who you are could not be read" message={me.error.message} />;
  if (me.isPending) return <p className="muted">Loading…</p>;
  const { actor, mode, permissions } = me.data;
  if (mode !== "demo")
    return (
      <section>
        <div className="toolbar">
          <h1>Faults</h1>
        </div>
        <div className="panel" data-testid="faults-production">
          <strong>There is no fault panel in production mode.</strong>
          <p className="muted">
            Faults are injected into the demo fleet only, when the dashboard runs with SAGASCOPE_MODE=demo.
            This dashboard runs in production mode, and the server refuses any fault change.
          </p>
        </div>
      </section>
    );
  const canAct = permissions["fleet.faults"];
  return (
    <section>
      <div className="toolbar">
        <h1>
          Faults <span className="badge badge-demo">demo</span>
        </h1>
      </div>
      <div className={styles.banner} role="note" data-testid="demo-banner">
        <strong>DEMO</strong> These faults are injected into the demo fleet: its services fail, slow down or
        crash on purpose, so that breakers trip and sagas compensate. Each service follows a change within a
        second; every change is recorded in the <Link href="/audit?action=fleet.faults">audit log</Link>.
      </div>
      {!canAct && (
        <p className="panel" data-testid="faults-not-allowed">
          {actor
            ? `The ${actor.role} role may not change faults`
            : "Visitors who have not signed in may not change faults"}
          : operators and admins may. What is in force is shown below.
        </p>
      )}
      <FaultTable canAct={canAct} />
    </section>
  );
}
