// Quarantined messages, newest first, with a readable preview of their raw bytes. Only the
// first PREVIEW_BYTES of each value leave the database (a page of large messages must not
// load them whole); the whole value is read only to replay it.
import type { DeadLetterState } from "../../../browser-safe/dead-letter-states.ts";
import type { Pool } from "../../db/pool.ts";
import type { PrismaClient } from "../../db/prisma.ts";

export interface DeadLetterView {
  id: string;
  receivedAt: Date;
  reason: string;
  kafka: { topic: string; partition: number; offset: number };
  key: string | null;
  headers: Record<string, string>;
  /** The value as UTF-8 when it decodes as text, else as base64; cut at `previewBytes`. */
  valuePreview: string;
  valueEncoding: "utf8" | "base64";
  valueBytes: number;
  /**
   * For a message that reused a stored event's source + id with another body: that stored
   * event, to compare with this message (null when the letter has another reason).
   */
  collidesWith: { source: string; id: string; type: string; time: Date; data: unknown } | null;
  /** What an operator did with it; null while it is open. */
  resolution: { what: Resolution; by: string; at: Date; note: string } | null;
  /** What an admin replayed instead of the original (edit then replay); null otherwise. */
  edit:
    | ({ key: string | null; headers: Record<string, string> } & Pick<
        DeadLetterView,
        "valuePreview" | "valueEncoding" | "valueBytes"
      >)
    | null;
}

const RESOLUTIONS = ["replayed", "replayed-edited", "discarded"] as const;
type Resolution = (typeof RESOLUTIONS)[number];
const isResolution = (r: string | null): r is Resolution => RESOLUTIONS.includes(r as Resolution);

export interface DeadLetterPage {
  items: DeadLetterView[];
  nextCursor: string | null;
}

const PREVIEW_BYTES = 4096;

/** C0 control characters other than tab, newline and carriage return mark binary data. */
function isControl(char: string): boolean {
  const code = char.charCodeAt(0);
  return code < 0x20 && char !== "\t" && char !== "\n" && char !== "\r";
}

function preview(
  bytes: Uint8Array | null,
  totalBytes: number,
): Pick<DeadLetterView, "valuePreview" | "valueEncoding" | "valueBytes"> {
  const head = Buffer.from(bytes ?? new Uint8Array()).subarray(0, PREVIEW_BYTES);
  const text = new TextDecoder("utf-8", { fatal: false }).decode(head);
  const printable = !text.includes("\uFFFD") && ![...text].some(isControl);
  return {
    valuePreview: printable ? text : head.toString("base64"),
    valueEncoding: printable ? "utf8" : "base64",
    valueBytes: totalBytes,
  };
}

export async function listDeadLetters(
  prisma: PrismaClient,
  input: { limit: number; cursor?: string; state?: DeadLetterState; reason?: string },
): Promise<DeadLetterPage> {
  const state = input.state ?? "all";
  const rows = await prisma.deadLetter.findMany({
    where: {
      ...(input.cursor ? { id: { lt: BigInt(input.cursor) } } : {}),
      ...(state === "open"
        ? { resolution: null }
        : state === "resolved"
          ? { resolution: { not: null } }
          : {}),
      ...(input.reason ? { reason: { contains: input.reason, mode: "insensitive" as const } } : {}),
    },
    orderBy: { id: "desc" },
    take: input.limit + 1,
    omit: { value: true, editedValue: true },
  });
  const page = rows.slice(0, input.limit);
  const stored = await collidingEvents(prisma, page);
  const heads = await valueHeads(
    prisma,
    page.map((r) => r.id),
  );
  const head = (id: bigint) => heads.get(id.toString());
  return {
    items: page.map((r) => ({
      id: r.id.toString(),
      receivedAt: r.receivedAt,
      reason: r.reason,
      kafka: { topic: r.kafkaTopic, partition: r.kafkaPartition, offset: Number(r.kafkaOffset) },
      key: r.key ? Buffer.from(r.key).toString("utf8") : null,
      headers: (r.headers ?? {}) as Record<string, string>,
      ...preview(head(r.id)?.head ?? null, head(r.id)?.bytes ?? 0),
      collidesWith:
        r.eventSource !== null && r.eventId !== null
          ? (stored.get(identityKey(r.eventSource, r.eventId)) ?? null)
          : null,
      resolution:
        isResolution(r.resolution) && r.resolvedAt
          ? { what: r.resolution, by: r.resolvedBy ?? "", at: r.resolvedAt, note: r.resolutionNote ?? "" }
          : null,
      edit:
        r.resolution === "replayed-edited"
          ? {
              key: r.editedKey ? Buffer.from(r.editedKey).toString("utf8") : null,
              headers: (r.editedHeaders ?? {}) as Record<string, string>,
              ...preview(head(r.id)?.editedHead ?? null, head(r.id)?.editedBytes ?? 0),
            }
          : null,
    })),
    nextCursor: rows.length > input.limit ? (page.at(-1)?.id.toString() ?? null) : null,
  };
}

const identityKey = (source: string, id: string) => JSON.stringify([source, id]);

/** The first PREVIEW_BYTES of each letter's value (and edited value) and their whole lengths. */
async function valueHeads(prisma: PrismaClient, ids: bigint[]) {
  if (ids.length === 0) return new Map<string, never>();
  const rows = await prisma.$queryRaw<
    {
      id: bigint;
      head: Uint8Array | null;
      bytes: number;
      editedHead: Uint8Array | null;
      editedBytes: number;
    }[]
  >`SELECT id, substring(value FROM 1 FOR ${PREVIEW_BYTES}::int) AS head, coalesce(octet_length(value), 0)::int AS bytes,
           substring(edited_value FROM 1 FOR ${PREVIEW_BYTES}::int) AS "editedHead",
           coalesce(octet_length(edited_value), 0)::int AS "editedBytes"
    FROM dead_letter WHERE id = ANY(${ids.map(String)}::bigint[])`;
  return new Map(rows.map((r) => [r.id.toString(), r]));
}

/** The stored events that the page's reused-id letters collide with, by source + id. */
async function collidingEvents(
  prisma: PrismaClient,
  letters: { eventSource: string | null; eventId: string | null }[],
): Promise<Map<string, NonNullable<DeadLetterView["collidesWith"]>>> {
  const wanted = letters.flatMap((l) =>
    l.eventSource !== null && l.eventId !== null ? [{ source: l.eventSource, id: l.eventId }] : [],
  );
  if (wanted.length === 0) return new Map();
  const identities = await prisma.sagaEventIdentity.findMany({ where: { OR: wanted } });
  const events = await prisma.sagaEvent.findMany({
    where: { OR: identities.map((i) => ({ id: i.id, time: i.time, source: i.source })) },
    select: { source: true, id: true, type: true, time: true, data: true },
  });
  return new Map(events.map((e) => [identityKey(e.source, e.id), e]));
}

/**
 * Open dead letters counted by kind of reason: the reason up to its first colon ("value is
 * not JSON", "invalid CloudEvents headers", "duplicate id with a different body"…), so that
 * one bad producer shows as one line, not one per message.
 */
export async function countOpenByReason(
  db: Pick<Pool, "query">,
): Promise<{ kind: string; count: number; newest: Date }[]> {
  const { rows } = await db.query<{ kind: string; count: number; newest: Date }>(
    `SELECT split_part(reason, ':', 1) AS kind, count(*)::int AS count, max(received_at) AS newest
     FROM dead_letter WHERE resolution IS NULL GROUP BY 1 ORDER BY count DESC, kind LIMIT 50`,
  );
  return rows;
}
