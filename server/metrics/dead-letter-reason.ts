// A dead letter's reason as a metric label: a fixed vocabulary (the reasons quote the
// message's own values, which must never become label values). Letters that a participant
// parked and reported are counted as "reported" by the caller, whatever their words.
const KINDS: [RegExp, string][] = [
  [/^duplicate id with a different body/, "duplicate_id"],
  [/^the database refused/, "database_refused"],
  [/is not JSON/, "not_json"],
  [/not valid UTF-8|NUL character/, "encoding"],
  [/too large|too many|too long/, "too_large"],
  [/^unknown event type/, "unknown_type"],
  [/^data does not match/, "schema"],
  [/traceparent/, "trace_context"],
  [/^message key|as the message key/, "key"],
  [/CloudEvents|header|specversion|batched/i, "envelope"],
];

export const DEAD_LETTER_REASON_KINDS = [...KINDS.map(([, kind]) => kind), "reported", "other"] as const;

export function deadLetterReasonKind(reason: string): string {
  return KINDS.find(([pattern]) => pattern.test(reason))?.[1] ?? "other";
}
