// Quarantined messages, newest first, with a readable preview of their raw bytes.
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
}

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
): Pick<DeadLetterView, "valuePreview" | "valueEncoding" | "valueBytes"> {
  const buffer = Buffer.from(bytes ?? new Uint8Array());
  const head = buffer.subarray(0, PREVIEW_BYTES);
  const text = new TextDecoder("utf-8", { fatal: false }).decode(head);
  const printable = !text.includes("\uFFFD") && ![...text].some(isControl);
  return {
    valuePreview: printable ? text : head.toString("base64"),
    valueEncoding: printable ? "utf8" : "base64",
    valueBytes: buffer.length,
  };
}

export async function listDeadLetters(
  prisma: PrismaClient,
  input: { limit: number; cursor?: string },
): Promise<DeadLetterPage> {
  const rows = await prisma.deadLetter.findMany({
    where: input.cursor ? { id: { lt: BigInt(input.cursor) } } : {},
    orderBy: { id: "desc" },
    take: input.limit + 1,
  });
  const page = rows.slice(0, input.limit);
  return {
    items: page.map((r) => ({
      id: r.id.toString(),
      receivedAt: r.receivedAt,
      reason: r.reason,
      kafka: { topic: r.kafkaTopic, partition: r.kafkaPartition, offset: Number(r.kafkaOffset) },
      key: r.key ? Buffer.from(r.key).toString("utf8") : null,
      headers: (r.headers ?? {}) as Record<string, string>,
      ...preview(r.value),
    })),
    nextCursor: rows.length > input.limit ? (page.at(-1)?.id.toString() ?? null) : null,
  };
}
