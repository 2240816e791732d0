"use client";
// Who the page acts as, what that role may do, and the CSRF token the page sends back.
import { useQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import { setCsrfToken, useTRPC } from "@/components/trpc.tsx";

export function useMe() {
  const trpc = useTRPC();
  const me = useQuery({ ...trpc.auth.me.queryOptions(), staleTime: 60_000 });
  useEffect(() => {
    if (me.data) setCsrfToken(me.data.csrf);
  }, [me.data]);
  return me;
}

/** Whether the signed-in role may do this (the server checks again). */
export function useCan() {
  const me = useMe();
  return (permission: keyof NonNullable<typeof me.data>["permissions"]) =>
    Boolean(me.data?.permissions[permission]);
}
