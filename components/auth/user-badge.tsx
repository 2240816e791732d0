"use client";
// The top bar's "who am I": name and role, sign in or sign out.
import { useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useMe } from "./use-me.ts";

export function UserBadge() {
  const me = useMe();
  const queryClient = useQueryClient();
  if (!me.data) return null;
  const { actor, mode } = me.data;
  if (!actor)
    return (
      <Link href="/sign-in" data-testid="sign-in-link">
        Sign in
      </Link>
    );
  return (
    <span className="user-badge" data-testid="user-badge" data-role={actor.role}>
      {mode === "demo" && <span className="badge badge-demo">demo</span>}
      <span title={actor.email}>{actor.name}</span> <span className="muted small">({actor.role})</span>
      {actor.via === "session" ? (
        <button
          type="button"
          onClick={async () => {
            await fetch("/api/auth/sign-out", { method: "POST" });
            await queryClient.invalidateQueries();
          }}
        >
          Sign out
        </button>
      ) : (
        <Link href="/sign-in">Sign in</Link>
      )}
    </span>
  );
}
