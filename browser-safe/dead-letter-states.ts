// Which dead letters a list shows: the open ones (nothing done yet), the resolved ones
// (replayed or discarded), or all. Shared by the page's filter and the server's query.
export const DEAD_LETTER_STATES = ["open", "resolved", "all"] as const;
export type DeadLetterState = (typeof DEAD_LETTER_STATES)[number];
