"use client";
// The dashboard's front door: the user's landing view if they chose one, the overview if not.
import { useQuery } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect } from "react";
import { useTRPC } from "@/components/trpc.tsx";

export function Landing() {
  const trpc = useTRPC();
  const router = useRouter();
  const landing = useQuery(trpc.views.landing.queryOptions(undefined, { retry: false }));
  useEffect(() => {
    // Signed out, or the database away: the overview says so itself.
    if (landing.isSuccess) router.replace(landing.data.href ?? "/overview");
    else if (landing.isError) router.replace("/overview");
  }, [landing.isSuccess, landing.isError, landing.data, router]);
  return <p className="muted">Opening…</p>;
}
