"use client";
// Navigation that depends on the mode and the role: the demo's fault panel, users (admins).
import Link from "next/link";
import { useMe } from "./use-me.ts";

export function RoleLinks() {
  const me = useMe();
  return (
    <>
      {me.data?.mode === "demo" && <Link href="/faults">Faults (demo)</Link>}
      {me.data?.permissions["users.manage"] && <Link href="/users">Users</Link>}
    </>
  );
}
