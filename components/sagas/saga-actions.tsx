"use client";
// What an operator can do with one saga, from its page: compensate now (after seeing which
// steps will be reverted, in which order, by which services), retry the failed step, retry
// from a step, mark resolved (with a reason), pause and resume. Each is confirmed, sent once (one idempotency
// key per intent), and followed from pending to the owner's answer.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { firstRerunnableStep } from "@/browser-safe/retry-from.ts";
import { ActionResult } from "@/components/actions/action-result.tsx";
import { ConfirmDialog } from "@/components/actions/confirm-dialog.tsx";
import { useActionStatus, useIntentKey } from "@/components/actions/use-action.ts";
import { useCan } from "@/components/auth/use-me.ts";
import { useTRPC } from "@/components/trpc.tsx";
import type { SagaDetail } from "@/server/dashboard/sagas/saga-detail.ts";
import type { SagaAction } from "@/server/saga-rules/saga-allowance.ts";

const LABELS: Record<SagaAction, string> = {
  compensate: "Compensate now",
  "retry-step": "Retry the failed step",
  "retry-from": "Retry from step…",
  "mark-resolved": "Mark resolved",
  pause: "Pause",
  resume: "Resume",
  "retry-edited": "Edit input and retry…",
};

const CONFIRM: Record<SagaAction, string> = {
  compensate: "Compensate",
  "retry-step": "Retry",
  "retry-from": "Retry",
  "mark-resolved": "Mark resolved",
  pause: "Pause",
  resume: "Resume",
  "retry-edited": "Retry with this input",
};

/** Pause or Resume, whichever applies: a saga is one or the other. */
const shown = (allowed: SagaDetail["actions"]["allowed"]) => (action: SagaAction) =>
  action === "resume" ? allowed.resume.allowed : action === "pause" ? !allowed.resume.allowed : true;

/** The edited input as the dialog holds it: a JSON object, or why not. */
function parseInput(text: string): { input: Record<string, unknown> } | { problem: string } {
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== "object" || Array.isArray(value))
      return { problem: "the input is a JSON object ({ … })" };
    return { input: value as Record<string, unknown> };
  } catch (error) {
    return { problem: `not JSON: ${(error as Error).message}` };
  }
}

export function SagaActions({
  sagaId,
  steps,
  mode,
  actions,
  input,
}: {
  sagaId: string;
  steps: { name: string; service: string }[];
  /** Where a retry-from may start (browser-safe/retry-from.ts). */
  mode: "orchestrated" | "choreographed";
  /** From the saga's detail, which the page keeps live. */
  actions: SagaDetail["actions"];
  /** The input the saga goes on with: the edit starts from it. */
  input: Record<string, unknown> | null;
}) {
  const trpc = useTRPC();
  const can = useCan();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState<SagaAction | null>(null);
  const firstRerunnable = firstRerunnableStep(mode);
  const [fromStep, setFromStep] = useState(firstRerunnable);
  const [inputText, setInputText] = useState("");
  const { key, reset } = useIntentKey();
  const send = useMutation(trpc.actions.saga.mutationOptions());
  const status = useActionStatus(send.data);

  useEffect(() => {
    if (status && ["done", "refused", "failed"].includes(status.phase))
      void queryClient.invalidateQueries({ queryKey: trpc.sagas.byId.queryKey({ sagaId }) });
  }, [status, queryClient, trpc, sagaId]);

  if (!can("saga.act")) return null;
  const edited = open === "retry-edited" ? parseInput(inputText) : undefined;
  const { allowed, plan } = actions;
  const close = () => {
    setOpen(null);
    reset();
  };
  return (
    <section aria-label="Actions" data-testid="saga-actions">
      <div className="action-bar">
        {(Object.keys(LABELS) as SagaAction[])
          .filter(shown(allowed))
          .filter((action) => action !== "retry-edited" || can("saga.edit"))
          .map((action) => (
            <button
              key={action}
              type="button"
              disabled={!allowed[action].allowed || send.isPending}
              title={allowed[action].allowed ? undefined : allowed[action].reason}
              onClick={() => {
                if (action === "retry-edited") setInputText(JSON.stringify(input ?? {}, null, 2));
                setOpen(action);
              }}
            >
              {LABELS[action]}
            </button>
          ))}
      </div>
      <ActionResult status={status} error={send.error?.message} />
      {open && (
        <ConfirmDialog
          title={LABELS[open].replace("…", "")}
          confirmLabel={CONFIRM[open]}
          reason={open === "mark-resolved" ? "required" : "optional"}
          busy={send.isPending}
          disabled={edited !== undefined && "problem" in edited}
          onCancel={close}
          onConfirm={(reason) => {
            send.mutate({
              sagaId,
              action: open,
              ...(reason ? { reason } : {}),
              ...(open === "retry-from" ? { fromStep } : {}),
              ...(edited && "input" in edited ? { input: edited.input } : {}),
              idempotencyKey: key,
            });
            close();
          }}
        >
          {open === "compensate" &&
            (plan.length === 0 ? (
              <p>No step has landed: the saga is aborted with nothing to revert.</p>
            ) : (
              <>
                <p>These steps will be reverted, in this order:</p>
                <ol data-testid="compensation-plan">
                  {plan.map((p) => (
                    <li key={p.stepIndex}>
                      <strong>{p.step}</strong> by {p.service}
                      {p.certainty === "maybe" && (
                        <span className="muted"> (under way: reverted if it landed)</span>
                      )}
                    </li>
                  ))}
                </ol>
              </>
            ))}
          {open === "retry-from" && (
            <label>
              Run again from{" "}
              <select
                value={fromStep}
                onChange={(e) => setFromStep(Number(e.target.value))}
                aria-label="First step to run again"
              >
                {steps.map((s, i) => (
                  <option key={s.name} value={i} disabled={i < firstRerunnable}>
                    {i}. {s.name} ({s.service})
                  </option>
                ))}
              </select>
            </label>
          )}
          {open === "retry-from" && mode === "choreographed" && (
            <p>
              The service that performed the step handles the message that triggered it again; every later
              step follows from what it publishes. The first step was started by the application, not by a
              message.
            </p>
          )}
          {open === "mark-resolved" && (
            <p>The runtime stops driving this saga: say what was done about it.</p>
          )}
          {open === "retry-edited" && (
            <>
              <p>
                The failed or waiting step is tried again now, with a fresh retry budget, and every later step
                (and compensation) uses this input. The saga's owner checks it against the saga's input schema
                when it has one; the original stays on the saga's page and on the audit log.
              </p>
              <label className="reason">
                Input (JSON)
                <textarea
                  className="mono"
                  value={inputText}
                  onChange={(e) => setInputText(e.target.value)}
                  rows={8}
                  spellCheck={false}
                />
              </label>
              {edited && "problem" in edited && (
                <p className="inline-error" data-testid="input-problem">
                  {edited.problem}
                </p>
              )}
            </>
          )}
          {open === "pause" && (
            <p>
              No new step or compensation of this saga starts until it is resumed; what is under way finishes.
              A paused saga is not reported stuck.
            </p>
          )}
          {open === "resume" && <p>The saga goes on where it stopped.</p>}
          <p className="muted small">
            The saga's owner checks again when the command arrives and answers here.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
