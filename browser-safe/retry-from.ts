// Where a retry-from may start. A choreographed saga's first step is started by the
// application (begin()), not by a message, so there is no trigger to handle again: it is
// retried from its second step on. An orchestrated saga can re-run any step.

export const firstRerunnableStep = (mode: "orchestrated" | "choreographed"): number =>
  mode === "choreographed" ? 1 : 0;
