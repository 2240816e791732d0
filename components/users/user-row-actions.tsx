"use client";
// An admin's controls on one user: another role, disable or enable, a new password. Each is
// an audited action; disabling and a new password sign the user out everywhere at once.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { NewUserSchema, type UserChange } from "@/browser-safe/new-user.ts";
import { ROLES, type Role } from "@/browser-safe/roles.ts";
import { ActionResult } from "@/components/actions/action-result.tsx";
import { useIntentKey } from "@/components/actions/use-action.ts";
import { useTRPC } from "@/components/trpc.tsx";
import styles from "./user-admin.module.css";

export function UserRowActions({ user }: { user: { email: string; role: Role; disabled: boolean } }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const intent = useIntentKey();
  const [role, setRole] = useState<Role>(user.role);
  const [password, setPassword] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const send = useMutation(
    trpc.auth.changeUser.mutationOptions({
      onSettled: () => {
        void queryClient.invalidateQueries({ queryKey: trpc.auth.users.queryKey() });
        intent.reset();
      },
    }),
  );
  const act = (change: UserChange) => {
    setProblem(null);
    send.mutate({ email: user.email, change, idempotencyKey: intent.key });
  };
  const who = user.email;
  return (
    <div className={styles.rowActions}>
      <select aria-label={`Role of ${who}`} value={role} onChange={(e) => setRole(e.target.value as Role)}>
        {ROLES.map((r) => (
          <option key={r} value={r}>
            {r}
          </option>
        ))}
      </select>
      <button
        type="button"
        disabled={send.isPending || role === user.role}
        onClick={() => act({ kind: "role", role })}
      >
        Set role
      </button>
      <button
        type="button"
        disabled={send.isPending}
        onClick={() => act({ kind: user.disabled ? "enable" : "disable" })}
      >
        {user.disabled ? "Enable" : "Disable"}
      </button>
      {password === null ? (
        <button type="button" disabled={send.isPending} onClick={() => setPassword("")}>
          New password…
        </button>
      ) : (
        <form
          className={styles.inline}
          onSubmit={(e) => {
            e.preventDefault();
            const checked = NewUserSchema.shape.password.safeParse(password);
            if (!checked.success) {
              setProblem(`needs ${checked.error.issues[0]?.message ?? "a longer password"}`);
              return;
            }
            act({ kind: "password", password: checked.data });
            setPassword(null);
          }}
        >
          <input
            type="password"
            autoComplete="new-password"
            aria-label={`New password for ${who}`}
            aria-invalid={Boolean(problem)}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          <button type="submit">Set password</button>
          <button type="button" onClick={() => setPassword(null)}>
            Cancel
          </button>
        </form>
      )}
      {problem && (
        <span className="inline-error" role="alert">
          {problem}
        </span>
      )}
      <ActionResult status={send.data} error={send.error?.message} />
    </div>
  );
}
