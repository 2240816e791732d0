// Tells "the database cannot be reached" apart from every other failure, so that the API
// answers 503 with that said plainly (and the page keeps retrying) instead of an error page.

/** Connection-level SQLSTATEs: admin/crash shutdown, cannot connect now, no such database, too many clients. */
const CONNECTION_STATES = new Set([
  "57P01",
  "57P02",
  "57P03",
  "3D000",
  "53300",
  "08000",
  "08001",
  "08003",
  "08006",
]);
/** Socket errors of a server that is down, unknown or unreachable. */
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EPIPE",
]);
const MESSAGES = [
  /is not currently accepting connections/,
  /Connection terminated/i,
  /has encountered a connection error and is not queryable/,
  /terminating connection due to administrator command/,
  /Can't reach database server/,
  /timeout exceeded when trying to connect/,
];

/** The reason, when `error` (or anything it wraps) says the database is out of reach. */
export function databaseUnreachableReason(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  for (let e: unknown = error; e && typeof e === "object" && !seen.has(e); ) {
    seen.add(e);
    const { code, message, cause } = e as { code?: unknown; message?: unknown; cause?: unknown };
    const text = typeof message === "string" ? message : "";
    if (typeof code === "string" && (CONNECTION_STATES.has(code) || SOCKET_CODES.has(code)))
      return text || code;
    if (MESSAGES.some((m) => m.test(text))) return text;
    // Prisma's driver adapter keeps the driver's error one level down.
    const adapter = (e as { meta?: { driverAdapterError?: unknown } }).meta?.driverAdapterError;
    e = cause ?? adapter;
  }
  return undefined;
}

export const DATABASE_UNREACHABLE_MESSAGE =
  "The database is unreachable, so this cannot be read now; the page tries again by itself, and events wait in Kafka until the ingester can store them";
