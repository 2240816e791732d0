"use client";
// The saved views in the top bar: the user's own and the team's, each with what it matches now.
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useRef } from "react";
import { useTRPC } from "@/components/trpc.tsx";
import type { SavedViewItem } from "@/server/dashboard/views/read-views.ts";

const REFRESH_MS = 30_000;

/** "12", or "1000+" past the count's cap; "?" for a view whose filter no longer reads. */
export function viewCount(view: Pick<SavedViewItem, "count">, cap: number): string {
  if (view.count === null) return "?";
  return view.count > cap ? `${cap}+` : String(view.count);
}

export function ViewsMenu() {
  const trpc = useTRPC();
  const list = useQuery(trpc.views.list.queryOptions(undefined, { refetchInterval: REFRESH_MS }));
  const menu = useRef<HTMLDetailsElement>(null);
  const close = () => menu.current?.removeAttribute("open");
  const views = list.data?.views ?? [];
  // Signed out (the sign-in page), or the database away: the page itself says so.
  if (list.isError) return null;
  const cap = list.data?.countCap ?? 0;
  const groups = [
    { title: "Mine", items: views.filter((v) => v.mine) },
    { title: "Shared by the team", items: views.filter((v) => !v.mine) },
  ].filter((g) => g.items.length > 0);
  return (
    <details className="views-menu" data-testid="views-menu" ref={menu}>
      <summary>Views{views.length > 0 ? ` (${views.length})` : ""}</summary>
      <div className="views-menu-panel">
        {groups.length === 0 ? (
          <p className="muted small">
            No saved view yet: filter the sagas or the audit log, then "Save view".
          </p>
        ) : (
          groups.map((g) => (
            <div key={g.title}>
              <h3 className="small muted">{g.title}</h3>
              <ul>
                {g.items.map((v) => (
                  <li key={v.id} data-view={v.name}>
                    <Link href={v.href} onClick={close}>
                      {v.name}
                    </Link>{" "}
                    <span className="muted small">{v.page}</span>{" "}
                    <span className="badge" data-testid="view-count" title="matching now">
                      {viewCount(v, cap)}
                    </span>
                    {v.landing && <span className="small muted"> · landing page</span>}
                  </li>
                ))}
              </ul>
            </div>
          ))
        )}
        <Link href="/views" className="small" onClick={close}>
          Manage views
        </Link>
      </div>
    </details>
  );
}
