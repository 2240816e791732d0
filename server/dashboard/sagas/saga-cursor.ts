// Keyset cursors for the saga list: (startedAt, sagaId) of the last row, opaque to clients.
import { z } from "zod";
import { AppError } from "../../errors.ts";

const CursorSchema = z.object({ t: z.iso.datetime(), id: z.string().min(1) });
export interface SagaCursor {
  startedAt: Date;
  sagaId: string;
}

export function encodeCursor(c: SagaCursor): string {
  return Buffer.from(JSON.stringify({ t: c.startedAt.toISOString(), id: c.sagaId })).toString("base64url");
}

export function decodeCursor(text: string): SagaCursor {
  try {
    const parsed = CursorSchema.parse(JSON.parse(Buffer.from(text, "base64url").toString("utf8")));
    return { startedAt: new Date(parsed.t), sagaId: parsed.id };
  } catch {
    throw new AppError("BAD_REQUEST", "invalid cursor: start again from the first page");
  }
}
