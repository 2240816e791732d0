// "When will this lag clear?" as a table cell: caught up, keeping up, clearing in ~3 min, or
// growing, with the consume and arrival rates it was measured from in its title.
import type { TimeToClear } from "@/server/dashboard/projections/time-to-clear.ts";

const perSecond = (n: number) => `${n < 10 ? n.toFixed(1) : Math.round(n)}/s`;

/** Roughly, as an operator says it: "~40 s", "~3 min", "~2 h". */
export function roughly(ms: number): string {
  if (ms < 60_000) return `~${Math.max(1, Math.round(ms / 1000))} s`;
  if (ms < 3_600_000) return `~${Math.round(ms / 60_000)} min`;
  return `~${Math.round(ms / 3_600_000)} h`;
}

export function TimeToClearCell({ estimate }: { estimate: TimeToClear }) {
  const rates =
    "consumePerSecond" in estimate
      ? `consuming ${perSecond(estimate.consumePerSecond)}, arriving ${perSecond(estimate.producePerSecond)} (over the last ${estimate.overSeconds} s)`
      : undefined;
  const [text, tone] =
    estimate.kind === "caught-up"
      ? ["caught up", ""]
      : estimate.kind === "keeping-up"
        ? ["keeping up", ""]
        : estimate.kind === "clearing"
          ? [`clearing in ${roughly(estimate.inMs)}`, "warn"]
          : estimate.kind === "growing"
            ? ["growing: not clearing at this rate", "fail"]
            : ["—", "muted"];
  return (
    <td
      className={tone}
      data-testid="time-to-clear"
      data-kind={estimate.kind}
      title={estimate.kind === "unknown" ? estimate.why : rates}
    >
      {text}
    </td>
  );
}
