// What a saga waits on, in an operator's words: the stuck badge, the saga page, the overview's
// counts and the list's filter.
import type { WaitingOn } from "@/browser-safe/waiting-on.ts";

export type WaitingKind = WaitingOn | "unclassified";

export const WAITING_LABEL: Record<WaitingKind, string> = {
  retrying: "retrying repeatedly",
  breaker: "behind an open breaker",
  participant: "waiting on a participant",
  silent: "silent",
  operator: "compensation given up",
  paused: "paused",
  unclassified: "not classified",
};

export const WAITING_HELP: Record<WaitingKind, string> = {
  retrying: "a step or compensation keeps failing and is retried (attempt 3 or later)",
  breaker: "its last attempt was refused by an open circuit breaker; it is retried when the breaker lets it",
  participant: "a participant started an attempt with a timeout and has not answered within it",
  silent: "no event, and none announced: the runtime that drives it may be down",
  operator: "a compensation was given up: the saga ended failed and needs an operator",
  paused: "an operator paused it: no step or compensation starts until it is resumed",
  unclassified: "last changed before the kinds were recorded; its next event classifies it",
};

/** The saga list that shows the sagas of a kind. */
export const waitingHref = (kind: WaitingKind) =>
  kind === "operator" || kind === "paused"
    ? `/sagas?waiting=${kind}`
    : kind === "unclassified"
      ? "/sagas?stuck=1"
      : `/sagas?stuck=1&waiting=${kind}`;

/** The kinds a list can be filtered by, in the order the filter offers them. */
export const WAITING_CHOICES: WaitingOn[] = [
  "retrying",
  "breaker",
  "participant",
  "silent",
  "operator",
  "paused",
];
