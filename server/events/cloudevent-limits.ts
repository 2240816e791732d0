// The limits every message on our topics is held to before its value is parsed: a message
// beyond any of them is quarantined with the limit named, never dropped.

/** Messages above this size are quarantined, not parsed: a saga event is small. */
export const MAX_EVENT_BYTES = 256 * 1024;
/** Limits outside the value: a message beyond any of them is quarantined with the limit named. */
export const MESSAGE_LIMITS = {
  /** The key is the saga id. */
  keyBytes: 1024,
  headers: 64,
  headerNameBytes: 256,
  headerValueBytes: 8 * 1024,
  /** Every header's name and value together. */
  headerBytes: 32 * 1024,
} as const;
/** Events stamped further ahead than this are refused: they would land outside every partition. */
export const MAX_CLOCK_SKEW_MS = 24 * 3600_000;

const NUL = "\u0000";
const NUL_ESCAPE = /\\u0000/i;
/**
 * Postgres text and jsonb cannot hold NUL, raw or as the JSON escape \u0000. Every header and
 * value of every message is checked: the escape is looked for only in a text with a backslash.
 */
export const hasNul = (text: string) => text.includes(NUL) || (text.includes("\\") && NUL_ESCAPE.test(text));

/** UTF-8 takes at most three bytes for each UTF-16 unit: a text this short is within `bytes`. */
const surelyWithin = (text: string, bytes: number) => text.length * 3 <= bytes;

/** Says which limit outside the value a message breaks, if any. */
export function outsideValueProblem(
  key: Buffer | string | null | undefined,
  headers: Record<string, string>,
): string | undefined {
  const L = MESSAGE_LIMITS;
  const keyBytes = key ? Buffer.byteLength(key) : 0;
  if (keyBytes > L.keyBytes) return `key too large: ${keyBytes} bytes > ${L.keyBytes}`;
  let count = 0;
  for (const _ in headers) count += 1;
  if (count > L.headers) return `too many headers: ${count} > ${L.headers}`;
  // Bytes are counted only where the texts' lengths cannot settle it (every message is checked).
  let units = 0;
  for (const name in headers) {
    const value = headers[name] as string;
    units += name.length + value.length;
    if (!surelyWithin(name, L.headerNameBytes)) {
      const nameBytes = Buffer.byteLength(name);
      if (nameBytes > L.headerNameBytes)
        return `header name too long: ${nameBytes} bytes > ${L.headerNameBytes} (${name.slice(0, 40)}…)`;
    }
    if (!surelyWithin(value, L.headerValueBytes)) {
      const valueBytes = Buffer.byteLength(value);
      if (valueBytes > L.headerValueBytes)
        return `header ${name} too large: ${valueBytes} bytes > ${L.headerValueBytes}`;
    }
  }
  if (units * 3 <= L.headerBytes) return undefined;
  let total = 0;
  for (const name in headers) total += Buffer.byteLength(name) + Buffer.byteLength(headers[name] as string);
  return total > L.headerBytes ? `headers too large: ${total} bytes in all > ${L.headerBytes}` : undefined;
}
