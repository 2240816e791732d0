"use client";
// Sign-in with email and password; on success the whole page re-reads as the new user.
import { useQueryClient } from "@tanstack/react-query";
import { useRouter, useSearchParams } from "next/navigation";
import { useState } from "react";
import { safeNextPath } from "./safe-next.ts";
import { useMe } from "./use-me.ts";

export function SignInForm() {
  const router = useRouter();
  const next = safeNextPath(useSearchParams().get("next"));
  const queryClient = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const sso = useMe().data?.sso ?? null;
  return (
    <form
      className="panel sign-in"
      onSubmit={async (e) => {
        e.preventDefault();
        const form = new FormData(e.currentTarget);
        setBusy(true);
        setError(null);
        const response = await fetch("/api/auth/sign-in", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: form.get("email"), password: form.get("password") }),
        }).catch(() => undefined);
        setBusy(false);
        if (!response) return setError("the dashboard cannot be reached");
        const body = (await response.json().catch(() => ({}))) as { message?: string };
        if (!response.ok) return setError(body.message ?? `sign-in failed (${response.status})`);
        await queryClient.invalidateQueries();
        router.push(next);
      }}
    >
      <h1>Sign in</h1>
      <label>
        Email <input name="email" type="email" autoComplete="username" required />
      </label>
      <label>
        Password <input name="password" type="password" autoComplete="current-password" required />
      </label>
      {error && (
        <p className="inline-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy}>
        {busy ? "Signing in…" : "Sign in"}
      </button>
      {sso && (
        <p>
          or <a href={`/api/auth/oidc/start?next=${encodeURIComponent(next)}`}>Sign in with {sso}</a>
        </p>
      )}
    </form>
  );
}
