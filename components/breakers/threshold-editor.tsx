"use client";
// An admin's form for one pair's thresholds: prefilled with its current settings, checked in
// the browser against the same limits the server applies (the message beside the field), and
// before saving, a what-if preview: the pair's last hour of recorded outcomes replayed with the
// proposed and with the current thresholds. Saving is confirmed with the list of changes.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { DEFAULT_BREAKER_CONFIG } from "@/browser-safe/breaker-config.ts";
import { type Thresholds, ThresholdsSchema } from "@/browser-safe/breaker-thresholds.ts";
import { ActionResult } from "@/components/actions/action-result.tsx";
import { ConfirmDialog } from "@/components/actions/confirm-dialog.tsx";
import { useActionStatus, useIntentKey } from "@/components/actions/use-action.ts";
import { useRefreshingMutation } from "@/components/actions/use-refreshing-mutation.ts";
import { useCan } from "@/components/auth/use-me.ts";
import { useTRPC } from "@/components/trpc.tsx";
import { ErrorPanel } from "@/components/ui/error-panel.tsx";
import styles from "./breaker-actions.module.css";
import { WhatIfPreview } from "./what-if-preview.tsx";

type Key = keyof Thresholds;
type Form = Record<Key, string>;

/** Each threshold as the form shows it (percent, seconds) and as the breaker keeps it. */
const FIELDS: {
  key: Key;
  label: string;
  unit: string;
  step: string;
  shown: (v: number) => number;
  kept: (n: number) => number;
}[] = [
  {
    key: "failureRate",
    label: "Failure rate",
    unit: "%",
    step: "any",
    shown: (v) => v * 100,
    kept: (n) => n / 100,
  },
  { key: "minimumCalls", label: "Minimum calls", unit: "calls", step: "1", shown: (v) => v, kept: (n) => n },
  {
    key: "windowMs",
    label: "Window",
    unit: "s",
    step: "any",
    shown: (v) => v / 1000,
    kept: (n) => Math.round(n * 1000),
  },
  {
    key: "openMs",
    label: "Open for",
    unit: "s",
    step: "any",
    shown: (v) => v / 1000,
    kept: (n) => Math.round(n * 1000),
  },
  {
    key: "halfOpenPermits",
    label: "Half-open trial calls",
    unit: "calls",
    step: "1",
    shown: (v) => v,
    kept: (n) => n,
  },
];

// Ten significant digits hide binary fractions (0.07 × 100 = 7.000000000000001).
const formOf = (t: Thresholds): Form =>
  Object.fromEntries(FIELDS.map((f) => [f.key, String(Number(f.shown(t[f.key]).toPrecision(10)))])) as Form;

const shownValue = (key: Key, value: number) => {
  const f = FIELDS.find((x) => x.key === key);
  return f ? `${Number(f.shown(value).toPrecision(10))} ${f.unit}` : String(value);
};

/** The proposal the form describes, or what is wrong with each field. */
export function readForm(form: Form): { thresholds?: Thresholds; errors: Partial<Record<Key, string>> } {
  const errors: Partial<Record<Key, string>> = {};
  const values: Partial<Record<Key, number>> = {};
  for (const f of FIELDS) {
    const text = form[f.key].trim();
    const n = Number(text);
    if (text === "" || !Number.isFinite(n)) errors[f.key] = "a number";
    else values[f.key] = f.kept(n);
  }
  if (Object.keys(errors).length > 0) return { errors };
  const parsed = ThresholdsSchema.safeParse(values);
  if (parsed.success) return { thresholds: parsed.data, errors };
  for (const issue of parsed.error.issues) {
    const key = issue.path[0] as Key;
    errors[key] ??= issue.message;
  }
  return { errors };
}

function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

export function ThresholdEditor({ pair, config }: { pair: string; config: Thresholds }) {
  const trpc = useTRPC();
  const can = useCan();
  const [form, setForm] = useState<Form>(() => formOf(config));
  const [confirming, setConfirming] = useState(false);
  const { key, reset } = useIntentKey();
  const { thresholds, errors } = readForm(form);
  // Only a valid proposal is replayed, once typing has paused.
  const proposal = useDebounced(thresholds ? JSON.stringify(thresholds) : null, 400);
  const whatIf = useQuery(
    trpc.actions.whatIf.queryOptions(
      { pair, thresholds: proposal ? (JSON.parse(proposal) as Thresholds) : config },
      // Callers report every 10 s, so the recorded hour grows while the form is open.
      { enabled: proposal !== null, placeholderData: keepPreviousData, refetchInterval: 10_000 },
    ),
  );
  const save = useRefreshingMutation(
    trpc.actions.breakerConfig.mutationOptions(),
    trpc.breakers.list.queryKey(),
  );
  const status = useActionStatus(save.data);

  if (!can("breaker.configure")) return null;
  const changes = thresholds ? FIELDS.filter((f) => thresholds[f.key] !== config[f.key]) : [];
  const close = () => {
    setConfirming(false);
    reset();
  };
  return (
    <section className={styles.editor} aria-labelledby="thresholds-title" data-testid="threshold-editor">
      <h3 id="thresholds-title">Thresholds</h3>
      <form
        className={styles.fields}
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (thresholds && changes.length > 0) setConfirming(true);
        }}
      >
        {FIELDS.map((f) => {
          const error = errors[f.key];
          return (
            <div key={f.key} className={styles.field}>
              <label htmlFor={`threshold-${f.key}`}>{f.label}</label>
              <span className={styles.input}>
                <input
                  id={`threshold-${f.key}`}
                  type="number"
                  inputMode="decimal"
                  step={f.step}
                  value={form[f.key]}
                  aria-invalid={error ? true : undefined}
                  aria-describedby={error ? `threshold-${f.key}-error` : undefined}
                  onChange={(e) => setForm({ ...form, [f.key]: e.target.value })}
                />{" "}
                <span className="muted">{f.unit}</span>
              </span>
              {error ? (
                <span id={`threshold-${f.key}-error`} className={styles.fieldError} role="alert">
                  {error}
                </span>
              ) : (
                <span className={`${styles.fieldNote} muted`}>now {shownValue(f.key, config[f.key])}</span>
              )}
            </div>
          );
        })}
        <div className={styles.formButtons}>
          <button type="button" onClick={() => setForm(formOf(config))}>
            Back to the current settings
          </button>
          <button type="button" onClick={() => setForm(formOf(DEFAULT_BREAKER_CONFIG))}>
            Fill in the defaults
          </button>
        </div>
        <h4>What if: the last hour replayed</h4>
        {!thresholds ? (
          <p className="muted small">
            Correct the fields marked above to see what these thresholds would have done.
          </p>
        ) : whatIf.isError ? (
          <ErrorPanel title="The what-if preview could not be computed" message={whatIf.error.message} />
        ) : !whatIf.data ? (
          <p className="muted small">Replaying the recorded outcomes…</p>
        ) : (
          <WhatIfPreview result={whatIf.data} updating={whatIf.isFetching} />
        )}
        <div className={styles.formButtons}>
          <button
            type="submit"
            className="danger"
            disabled={!thresholds || changes.length === 0 || save.isPending}
          >
            Save thresholds…
          </button>
          {thresholds && changes.length === 0 ? (
            <span className="muted small">No change from the current settings.</span>
          ) : null}
        </div>
      </form>
      <ActionResult status={status} error={save.error?.message} />
      {confirming && thresholds && (
        <ConfirmDialog
          title={`Change the thresholds of ${pair}`}
          confirmLabel="Save"
          busy={save.isPending}
          onCancel={close}
          onConfirm={() => {
            save.mutate({ pair, thresholds, idempotencyKey: key });
            close();
          }}
        >
          <p>Every caller instance follows the new settings within milliseconds:</p>
          <ul data-testid="threshold-changes">
            {changes.map((f) => (
              <li key={f.key}>
                {f.label}: {shownValue(f.key, config[f.key])} →{" "}
                <strong>{shownValue(f.key, thresholds[f.key])}</strong>
              </li>
            ))}
          </ul>
        </ConfirmDialog>
      )}
    </section>
  );
}
