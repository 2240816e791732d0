"use client";
// What an operator does with quarantined messages: replay one to its topic or discard it with a
// reason; or replay or discard every open letter matching the page's filter, after a preview
// of how many (against the bulk cap) and which. Each is confirmed, sent once per intent,
// audited on the server, and answered in its own words; a viewer sees none of it.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { ActionResult } from "@/components/actions/action-result.tsx";
import { ConfirmDialog } from "@/components/actions/confirm-dialog.tsx";
import { useActionStatus, useIntentKey } from "@/components/actions/use-action.ts";
import { useRefreshingMutation } from "@/components/actions/use-refreshing-mutation.ts";
import { useCan } from "@/components/auth/use-me.ts";
import { useTRPC } from "@/components/trpc.tsx";

type Op = "replay" | "discard";

const EXPLAIN: Record<Op, string> = {
  replay:
    "The message is published again, byte for byte (key, value, headers), to the topic it came from. Do it once its producer or the contract is fixed: a message that breaks the contract again becomes a new dead letter.",
  discard: "The message stays on record, marked discarded with your reason; nothing is published.",
};

function useDeadLetterAction() {
  const trpc = useTRPC();
  const send = useRefreshingMutation(trpc.actions.deadLetter.mutationOptions(), trpc.deadLetters.pathKey());
  return { send, status: useActionStatus(send.data) };
}

/** Replay or discard one letter. */
export function LetterActions({ id }: { id: string }) {
  const can = useCan();
  const { send, status } = useDeadLetterAction();
  const { key, reset } = useIntentKey();
  const [open, setOpen] = useState<Op | null>(null);
  if (!can("dead-letter.act")) return null;
  return (
    <div className="action-bar" data-testid="letter-actions">
      <button type="button" disabled={send.isPending} onClick={() => setOpen("replay")}>
        Replay
      </button>
      <button type="button" disabled={send.isPending} onClick={() => setOpen("discard")}>
        Discard
      </button>
      <ActionResult status={status} error={send.error?.message} />
      {open && (
        <ConfirmDialog
          title={`${open === "replay" ? "Replay" : "Discard"} dead letter ${id}`}
          confirmLabel={open === "replay" ? "Replay" : "Discard"}
          reason={open === "discard" ? "required" : "optional"}
          busy={send.isPending}
          onCancel={() => {
            setOpen(null);
            reset();
          }}
          onConfirm={(note) => {
            send.mutate({ op: open, id, ...(note ? { note } : {}), idempotencyKey: key });
            setOpen(null);
            reset();
          }}
        >
          <p>{EXPLAIN[open]}</p>
        </ConfirmDialog>
      )}
    </div>
  );
}

/** Replay or discard every open letter whose reason contains `reason`, after a preview. */
export function BulkLetterActions({ reason }: { reason: string }) {
  const trpc = useTRPC();
  const can = useCan();
  const { send, status } = useDeadLetterAction();
  const { key, reset } = useIntentKey();
  const [open, setOpen] = useState<Op | null>(null);
  const preview = useQuery({ ...trpc.deadLetters.preview.queryOptions({ reason }), enabled: open !== null });
  if (!can("dead-letter.act")) return null;
  const p = preview.data;
  const overCap = p ? p.count > p.cap : false;
  return (
    <div className="action-bar" data-testid="bulk-letter-actions">
      <button type="button" disabled={send.isPending} onClick={() => setOpen("replay")}>
        Replay all open matching
      </button>
      <button type="button" disabled={send.isPending} onClick={() => setOpen("discard")}>
        Discard all open matching
      </button>
      <ActionResult status={status} error={send.error?.message} />
      {open && (
        <ConfirmDialog
          title={`${open === "replay" ? "Replay" : "Discard"} every open letter matching “${reason}”`}
          confirmLabel={open === "replay" ? "Replay them" : "Discard them"}
          reason={open === "discard" ? "required" : "optional"}
          busy={send.isPending}
          disabled={!p || p.count === 0 || overCap}
          onCancel={() => {
            setOpen(null);
            reset();
          }}
          onConfirm={(note) => {
            if (!p) return;
            send.mutate({
              op: open,
              filter: { reason },
              expectedCount: p.count,
              ...(note ? { note } : {}),
              idempotencyKey: key,
            });
            setOpen(null);
            reset();
          }}
        >
          <p>{EXPLAIN[open]}</p>
          {!p ? (
            <p className="muted">Counting the letters it would touch…</p>
          ) : (
            <div data-testid="bulk-letter-preview" data-count={p.count}>
              <p className={overCap ? "fail" : undefined}>
                {p.count} open letter{p.count === 1 ? "" : "s"} match
                {overCap ? `: more than ${p.cap}, the most one action may touch; narrow the reason.` : "."}
              </p>
              <ul className="small mono">
                {p.first.map((l) => (
                  <li key={l.id}>
                    #{l.id} {l.topic}@{l.offset}: {l.reason}
                  </li>
                ))}
              </ul>
            </div>
          )}
        </ConfirmDialog>
      )}
    </div>
  );
}
