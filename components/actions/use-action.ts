"use client";
// Runs an operator action and follows it: one idempotency key per intent (so a double click
// or a retry acts once), then the action's status until it is done, failed or refused.
import { useQuery } from "@tanstack/react-query";
import { useCallback, useState } from "react";
import { isFinalPhase } from "@/browser-safe/audit-phases.ts";
import { useTRPC } from "@/components/trpc.tsx";
import type { ActionStatus } from "@/server/actions/perform-action.ts";

export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}

export function useActionStatus(initial: ActionStatus | undefined) {
  const trpc = useTRPC();
  const pending = Boolean(initial && !isFinalPhase(initial.phase));
  const followed = useQuery({
    ...trpc.actions.status.queryOptions({
      actionId: initial?.actionId ?? "00000000-0000-0000-0000-000000000000",
    }),
    enabled: pending,
    refetchInterval: (q) => (q.state.data && isFinalPhase(q.state.data.phase) ? false : 500),
  });
  return pending ? (followed.data ?? initial) : initial;
}

/** Sends `run(key)` once per intent: the key lives until `reset()` (a new intent). */
export function useIntentKey() {
  const [key, setKey] = useState(newIdempotencyKey);
  const reset = useCallback(() => setKey(newIdempotencyKey()), []);
  return { key, reset };
}
