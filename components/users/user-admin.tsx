"use client";
// Users, for admins: who may sign in and with which role, each with controls to change it,
// and a form to add one (checked here with the server's own rules before it is sent).
// Anyone else is told plainly.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { type ReactNode, useState } from "react";
import { NewUserSchema } from "@/browser-safe/new-user.ts";
import { ROLES } from "@/browser-safe/roles.ts";
import { ActionResult } from "@/components/actions/action-result.tsx";
import { useIntentKey } from "@/components/actions/use-action.ts";
import { useMe } from "@/components/auth/use-me.ts";
import { useTRPC } from "@/components/trpc.tsx";
import { ErrorPanel } from "@/components/ui/error-panel.tsx";
import { formatAge, formatTime } from "@/components/ui/format.ts";
import styles from "./user-admin.module.css";
import { UserRowActions } from "./user-row-actions.tsx";

type Field = "email" | "name" | "role" | "password";
const EMPTY: Record<Field, string> = { email: "", name: "", role: "viewer", password: "" };

function UserTable() {
  const trpc = useTRPC();
  const users = useQuery(trpc.auth.users.queryOptions());
  if (users.isError)
    return (
      <ErrorPanel
        title="The users could not be loaded (they are kept in Postgres)"
        message={users.error.message}
      />
    );
  if (users.isPending) return <p className="muted">Loading…</p>;
  if (users.data.length === 0)
    return (
      <div className="panel">
        <strong>No users yet.</strong>
        <p className="muted">
          Add one below. The first admin comes from SAGASCOPE_ADMIN_EMAIL and SAGASCOPE_ADMIN_PASSWORD.
        </p>
      </div>
    );
  return (
    <table className="grid" data-testid="user-table">
      <thead>
        <tr>
          <th>Email</th>
          <th>Name</th>
          <th>Role</th>
          <th>Created</th>
          <th>Change</th>
        </tr>
      </thead>
      <tbody>
        {users.data.map((u) => (
          <tr key={u.id} data-email={u.email} data-role={u.role} data-disabled={u.disabled}>
            <td className="mono">
              {u.email}
              {u.disabled && <span className="badge"> disabled</span>}
            </td>
            <td>{u.name}</td>
            <td>{u.role}</td>
            <td title={formatTime(u.createdAt)}>{formatAge(u.createdAt)}</td>
            <td>
              <UserRowActions user={u} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** One field of the form: its label, its input, and what is wrong with it (outside the label). */
function FieldRow({
  field,
  label,
  problem,
  children,
}: {
  field: Field;
  label: string;
  problem: string | undefined;
  children: ReactNode;
}) {
  return (
    <div className={styles.field}>
      <label htmlFor={`new-user-${field}`}>{label}</label>
      {children}
      {problem && (
        <span className="inline-error" role="alert" id={`new-user-${field}-problem`}>
          needs {problem}
        </span>
      )}
    </div>
  );
}

function NewUserForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const intent = useIntentKey();
  const [form, setForm] = useState(EMPTY);
  const [problems, setProblems] = useState<Partial<Record<Field, string>>>({});
  const create = useMutation(
    trpc.auth.createUser.mutationOptions({
      onSuccess: (status) => {
        void queryClient.invalidateQueries({ queryKey: trpc.auth.users.queryKey() });
        // A settled answer ends this intent; the next submission is a new one.
        intent.reset();
        if (status.phase === "done") setForm(EMPTY);
      },
    }),
  );
  const change = (field: Field, value: string) => {
    setForm((f) => ({ ...f, [field]: value }));
    setProblems((p) => ({ ...p, [field]: undefined }));
    // Different details are a different request, not a retry of the last one.
    intent.reset();
  };
  const input = (field: Field) => ({
    id: `new-user-${field}`,
    value: form[field],
    "aria-invalid": Boolean(problems[field]),
    "aria-describedby": problems[field] ? `new-user-${field}-problem` : undefined,
  });
  return (
    <form
      className={`panel ${styles.form}`}
      aria-label="Add a user"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const parsed = NewUserSchema.safeParse(form);
        if (!parsed.success) {
          const found: Partial<Record<Field, string>> = {};
          for (const issue of parsed.error.issues) found[issue.path[0] as Field] ??= issue.message;
          setProblems(found);
          return;
        }
        setProblems({});
        create.mutate({ ...parsed.data, idempotencyKey: intent.key });
      }}
    >
      <h2>Add a user</h2>
      <FieldRow field="email" label="Email" problem={problems.email}>
        <input
          {...input("email")}
          type="email"
          autoComplete="off"
          onChange={(e) => change("email", e.target.value)}
        />
      </FieldRow>
      <FieldRow field="name" label="Name" problem={problems.name}>
        <input {...input("name")} onChange={(e) => change("name", e.target.value)} />
      </FieldRow>
      <FieldRow field="role" label="Role" problem={problems.role}>
        <select {...input("role")} onChange={(e) => change("role", e.target.value)}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </FieldRow>
      <FieldRow field="password" label="Password (12 characters at least)" problem={problems.password}>
        <input
          {...input("password")}
          type="password"
          autoComplete="new-password"
          onChange={(e) => change("password", e.target.value)}
        />
      </FieldRow>
      <div>
        <button type="submit" disabled={create.isPending}>
          {create.isPending ? "Adding…" : "Add user"}
        </button>
      </div>
      <ActionResult status={create.data} error={create.error?.message} />
    </form>
  );
}

export function UserAdmin() {
  const me = useMe();
  if (me.isError) return <ErrorPanel title="Who you are could not be read" message={me.error.message} />;
  if (me.isPending) return <p className="muted">Loading…</p>;
  const { actor, permissions } = me.data;
  return (
    <section>
      <div className="toolbar">
        <h1>Users</h1>
      </div>
      {!permissions["users.manage"] ? (
        <div className="panel" data-testid="users-not-allowed">
          <strong>Only admins manage users.</strong>
          <p className="muted">
            {actor ? (
              <>
                You are signed in as {actor.name} ({actor.role}).{" "}
              </>
            ) : null}
            <Link href="/sign-in?next=/users">Sign in as an admin</Link> to see and add users.
          </p>
        </div>
      ) : (
        <>
          <UserTable />
          <NewUserForm />
        </>
      )}
    </section>
  );
}
