"use client";
// An admin declares a consumer group to be a projection (its lag is then sampled by the
// ingester), or forgets one declared here. Audited on the server; a viewer or operator sees
// nothing of it.
import { type FormEvent, useState } from "react";
import { ActionResult } from "@/components/actions/action-result.tsx";
import { useActionStatus, useIntentKey } from "@/components/actions/use-action.ts";
import { useRefreshingMutation } from "@/components/actions/use-refreshing-mutation.ts";
import { useCan } from "@/components/auth/use-me.ts";
import { useTRPC } from "@/components/trpc.tsx";

function useProjectionAction() {
  const trpc = useTRPC();
  const send = useRefreshingMutation(trpc.actions.projection.mutationOptions(), trpc.projections.pathKey());
  return { send, status: useActionStatus(send.data) };
}

export function DeclareProjection() {
  const can = useCan();
  const { send, status } = useProjectionAction();
  const { key, reset } = useIntentKey();
  const [name, setName] = useState("");
  const [groupId, setGroupId] = useState("");
  const [topics, setTopics] = useState("");
  if (!can("projection.declare")) return null;

  function submit(event: FormEvent) {
    event.preventDefault();
    send.mutate({
      op: "declare",
      name: name.trim(),
      groupId: groupId.trim(),
      topics: topics
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean),
      idempotencyKey: key,
    });
    reset();
  }

  return (
    <details className="panel" data-testid="declare-projection">
      <summary>Declare a consumer group to be a projection</summary>
      <p className="muted small">
        Its lag is then sampled every few seconds: in offsets from the group's committed offsets, in seconds
        from the oldest message it has not read. Without topics, every topic it commits offsets on counts.
      </p>
      <form onSubmit={submit} className="toolbar">
        <label>
          Name{" "}
          <input
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="order-history"
            required
          />
        </label>
        <label>
          Consumer group <input value={groupId} onChange={(e) => setGroupId(e.target.value)} required />
        </label>
        <label>
          Topics (optional){" "}
          <input value={topics} onChange={(e) => setTopics(e.target.value)} placeholder="orders, refunds" />
        </label>
        <button type="submit" disabled={send.isPending}>
          Declare
        </button>
      </form>
      <ActionResult status={status} error={send.error?.message} />
    </details>
  );
}

export function UndeclareProjection({ name }: { name: string }) {
  const can = useCan();
  const { send, status } = useProjectionAction();
  const { key, reset } = useIntentKey();
  if (!can("projection.declare")) return null;
  return (
    <>
      <button
        type="button"
        disabled={send.isPending}
        onClick={() => {
          send.mutate({ op: "undeclare", name, idempotencyKey: key });
          reset();
        }}
      >
        Stop measuring
      </button>
      <ActionResult status={status} error={send.error?.message} />
    </>
  );
}
