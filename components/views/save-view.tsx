"use client";
// "Save view" on a filtered page: the page's current filter under a name, private or (an
// operator's) shared with the team. The server checks the filter and the permission again.
import { type FormEvent, useState } from "react";
import { ActionResult } from "@/components/actions/action-result.tsx";
import { useIntentKey } from "@/components/actions/use-action.ts";
import { useRefreshingMutation } from "@/components/actions/use-refreshing-mutation.ts";
import { useCan } from "@/components/auth/use-me.ts";
import { useTRPC } from "@/components/trpc.tsx";

export function SaveView({ page, query }: { page: "sagas" | "audit"; query: string }) {
  const trpc = useTRPC();
  const can = useCan();
  const save = useRefreshingMutation(trpc.views.act.mutationOptions(), trpc.views.pathKey());
  const { key, reset } = useIntentKey();
  const [name, setName] = useState("");
  const [shared, setShared] = useState(false);
  // The form is drawn only while open: closed, the page holds nothing of it but its summary.
  const [open, setOpen] = useState(false);
  if (!can("views.save")) return null;

  function submit(event: FormEvent) {
    event.preventDefault();
    save.mutate({ op: "save", page, name: name.trim(), query, shared, idempotencyKey: key });
    reset();
  }

  return (
    <details className="save-view" data-testid="save-view" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Save view</summary>
      {open && (
        <form onSubmit={submit} className="save-view-form">
          <label>
            Name{" "}
            <input
              value={name}
              onChange={(e) => setName(e.target.value)}
              maxLength={80}
              required
              placeholder="Failed transfers today"
            />
          </label>
          {can("views.share") && (
            <label>
              <input type="checkbox" checked={shared} onChange={(e) => setShared(e.target.checked)} /> share
              with the team
            </label>
          )}
          <button type="submit" disabled={save.isPending || !name.trim()}>
            Save
          </button>
          <span className="muted small">{query ? `?${query}` : "no filter: everything"}</span>
          <ActionResult status={save.data} error={save.error?.message} />
        </form>
      )}
    </details>
  );
}
