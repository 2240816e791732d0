// Shows whether the page's live connection is up.
export function LiveIndicator({ status }: { status: "idle" | "connecting" | "pending" | "error" }) {
  const label = status === "pending" ? "live" : status === "error" ? "reconnecting" : "connecting";
  return (
    <span
      className={`live live-${label}`}
      data-testid="live-indicator"
      title="updates arrive without reloading"
    >
      <span className="live-dot" /> {label}
    </span>
  );
}
