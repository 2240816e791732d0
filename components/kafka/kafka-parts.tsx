"use client";
// Small pieces the Kafka page's tables share: a clock for relative ages, the row expander and
// its open set, a lag cell, and how counts are written.
import { useEffect, useState } from "react";
import styles from "./kafka-view.module.css";

export const count = (n: number | null) => (n === null ? "—" : n.toLocaleString());

/** Re-renders every second so that relative ages keep moving between reads. */
export function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

/** A row button that shows or hides the detail row under it. */
export function Expander({ open, onToggle, label }: { open: boolean; onToggle: () => void; label: string }) {
  return (
    <button
      type="button"
      className={styles.expander}
      aria-expanded={open}
      aria-label={`${open ? "Hide" : "Show"} ${label}`}
      onClick={onToggle}
    >
      {open ? "▾" : "▸"}
    </button>
  );
}

export function useToggles(initial: string[] = []): [Set<string>, (key: string) => void] {
  const [open, setOpen] = useState<Set<string>>(() => new Set(initial));
  const toggle = (key: string) =>
    setOpen((prev) => {
      const next = new Set(prev);
      if (!next.delete(key)) next.add(key);
      return next;
    });
  return [open, toggle];
}

export function LagCell({ lag }: { lag: number | null }) {
  if (lag === null)
    return (
      <td className={`num ${styles.dim}`} title="no committed offset on this partition">
        —
      </td>
    );
  return <td className={`num ${lag > 0 ? styles.behind : ""}`}>{count(lag)}</td>;
}
