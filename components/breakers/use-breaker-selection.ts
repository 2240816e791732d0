"use client";
// The pair and range the breakers page looks at, kept in the URL (?pair=…&range=…) so that a
// view can be shared and survives a reload.
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import type { HistoryRange } from "@/server/dashboard/breakers/pair-history.ts";

export const RANGE_LABELS = {
  "15m": "15 min",
  "1h": "1 h",
  "6h": "6 h",
  "24h": "24 h",
} as const satisfies Record<HistoryRange, string>;
export const DEFAULT_RANGE: HistoryRange = "1h";

const isRange = (value: string | null): value is HistoryRange =>
  value !== null && Object.hasOwn(RANGE_LABELS, value);

export function useBreakerSelection() {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const query = params.toString();
  const requested = params.get("range");
  const range = isRange(requested) ? requested : DEFAULT_RANGE;

  /** This page's address with `change` applied (null removes a parameter). */
  const href = (change: { pair?: string | null; range?: HistoryRange }) => {
    const next = new URLSearchParams(query);
    for (const [key, value] of Object.entries(change)) {
      if (value) next.set(key, value);
      else next.delete(key);
    }
    const text = next.toString();
    return text ? `${pathname}?${text}` : pathname;
  };

  return {
    pair: params.get("pair") ?? undefined,
    range,
    href,
    setRange: (next: HistoryRange) => router.replace(href({ range: next }), { scroll: false }),
  };
}
