"use client";
// Every breaker at a glance: callers as rows, callees as columns, each pair a link coloured by
// what it does now (forced states marked) with its failure rate; a pair per operation is one
// more entry in its cell. Following a link selects the pair for the detail below.
import Link from "next/link";
import type { BreakerDto } from "@/server/dashboard/breakers/list-breakers.ts";
import {
  cx,
  evaluatedFigures,
  pct,
  shownState,
  stateLabel,
  stateSummary,
  thresholdText,
} from "./breaker-format.ts";
import styles from "./breakers.module.css";

const unique = (values: string[]) => [...new Set(values)].sort();

export function BreakerMatrix({
  breakers,
  selected,
  hrefFor,
}: {
  breakers: BreakerDto[];
  selected: string | undefined;
  hrefFor: (pair: string) => string;
}) {
  const callers = unique(breakers.map((b) => b.caller));
  const callees = unique(breakers.map((b) => b.callee));
  const cells = new Map<string, BreakerDto[]>();
  for (const b of breakers) {
    const key = `${b.caller}→${b.callee}`;
    cells.set(key, [...(cells.get(key) ?? []), b]);
  }
  return (
    <div className={styles.matrixWrap}>
      <table className={styles.matrix} data-testid="breaker-matrix">
        <caption className={styles.matrixCaption}>
          Callers by row, callees by column; choose a pair to see its history.
        </caption>
        <thead>
          <tr>
            <th scope="col">caller ↓ callee →</th>
            {callees.map((callee) => (
              <th scope="col" key={callee}>
                {callee}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {callers.map((caller) => (
            <tr key={caller}>
              <th scope="row">{caller}</th>
              {callees.map((callee) => {
                const entries = cells.get(`${caller}→${callee}`) ?? [];
                return (
                  <td key={callee}>
                    {entries.length === 0 ? (
                      <span className={styles.none} title={`no breaker from ${caller} to ${callee}`}>
                        ·
                      </span>
                    ) : (
                      <div className={styles.entries}>
                        {entries.map((b) => (
                          <MatrixEntry
                            key={b.pair}
                            breaker={b}
                            selected={b.pair === selected}
                            href={hrefFor(b.pair)}
                          />
                        ))}
                      </div>
                    )}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <ul className={styles.legend} aria-label="Colours">
        {(["closed", "half_open", "open", "disabled"] as const).map((s) => (
          <li key={s}>
            <span className={cx(styles.swatch, styles[s])} /> {stateLabel(s)}
          </li>
        ))}
        <li>
          <span className={cx(styles.swatch, styles.forced)} /> dashed: forced by an operator
        </li>
      </ul>
    </div>
  );
}

function MatrixEntry({
  breaker: b,
  selected,
  href,
}: {
  breaker: BreakerDto;
  selected: boolean;
  href: string;
}) {
  const shown = shownState(b);
  const figures = evaluatedFigures(b);
  const rate = `failure rate ${pct(figures.failureRate)} of ${figures.calls} calls${b.state === "closed" ? "" : " when it opened"}`;
  return (
    <Link
      href={href}
      scroll={false}
      className={cx(styles.entry, styles[shown], b.forced && styles.forced, selected && styles.selected)}
      aria-label={`${stateSummary(b)}; ${rate}`}
      aria-current={selected ? "true" : undefined}
      title={`${stateSummary(b)} · ${rate}, ${thresholdText(b)}${b.reported ? ` · reported by ${b.reported.instance}` : ""}`}
      data-testid="matrix-cell"
      data-pair={b.pair}
      data-state={b.state}
      data-forced={b.forced ?? ""}
    >
      {b.operation ? <span className={styles.op}>/ {b.operation}</span> : null}
      <span className={styles.entryState}>
        {b.forced ? <span className={styles.forcedTag}>forced </span> : null}
        {stateLabel(shown)}
      </span>
      <span className={styles.entryRate}>{pct(figures.failureRate)}</span>
    </Link>
  );
}
