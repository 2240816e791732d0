"use client";
// Edit then replay (admins): the message's key, value and headers in an editor, published
// again to its topic once the server has checked the edit against the topic's contract. The
// original stays on the letter; the edit is shown beside it afterwards.
import { type FormEvent, useState } from "react";
import { ActionResult } from "@/components/actions/action-result.tsx";
import { useActionStatus, useIntentKey } from "@/components/actions/use-action.ts";
import { useRefreshingMutation } from "@/components/actions/use-refreshing-mutation.ts";
import { useCan } from "@/components/auth/use-me.ts";
import { useTRPC } from "@/components/trpc.tsx";
import type { DeadLetterView } from "@/server/dashboard/dead-letters/list-dead-letters.ts";

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function readHeaders(text: string): { headers?: Record<string, string>; error?: string } {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      return { error: "headers: a JSON object of names to strings" };
    const entries = Object.entries(parsed);
    if (entries.some(([, v]) => typeof v !== "string"))
      return { error: "headers: every value must be a string" };
    return { headers: Object.fromEntries(entries) as Record<string, string> };
  } catch (error) {
    return { error: `headers are not JSON: ${(error as Error).message}` };
  }
}

export function EditAndReplay({ letter }: { letter: DeadLetterView }) {
  const trpc = useTRPC();
  const can = useCan();
  const send = useRefreshingMutation(
    trpc.actions.deadLetterEdit.mutationOptions(),
    trpc.deadLetters.pathKey(),
  );
  const status = useActionStatus(send.data);
  const { key: intent, reset } = useIntentKey();
  const [open, setOpen] = useState(false);
  const [key, setKey] = useState(letter.key ?? "");
  const [value, setValue] = useState(() => prettyJson(letter.valuePreview));
  const [headers, setHeaders] = useState(() => JSON.stringify(letter.headers, null, 2));
  const [note, setNote] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  if (!can("dead-letter.edit")) return null;
  const editable =
    letter.valueEncoding === "utf8" &&
    letter.valueBytes === new TextEncoder().encode(letter.valuePreview).length;

  function submit(event: FormEvent) {
    event.preventDefault();
    const read = readHeaders(headers);
    if (!read.headers) return setProblem(read.error ?? "invalid headers");
    setProblem(null);
    send.mutate({
      id: letter.id,
      key: key === "" ? null : key,
      value,
      headers: read.headers,
      note,
      idempotencyKey: intent,
    });
    reset();
  }

  if (!open)
    return (
      <div className="action-bar">
        <button type="button" onClick={() => setOpen(true)} disabled={!editable}>
          Edit and replay
        </button>
        {!editable ? (
          <span className="muted small">
            {" "}
            the value is binary or larger than its preview: replay it as it is
          </span>
        ) : null}
        <ActionResult status={status} error={send.error?.message} />
      </div>
    );
  return (
    <form className="edit-letter" onSubmit={submit} data-testid="edit-letter">
      <label>
        Key <input value={key} onChange={(e) => setKey(e.target.value)} size={40} />
      </label>
      <label>
        Value
        <textarea
          className="code-input"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          rows={12}
          cols={80}
          spellCheck={false}
        />
      </label>
      <label>
        Headers (JSON)
        <textarea
          className="code-input"
          value={headers}
          onChange={(e) => setHeaders(e.target.value)}
          rows={8}
          cols={80}
          spellCheck={false}
        />
      </label>
      <label>
        What the edit fixes{" "}
        <input value={note} onChange={(e) => setNote(e.target.value)} size={60} required />
      </label>
      {problem ? (
        <p className="fail" role="alert">
          {problem}
        </p>
      ) : null}
      <div className="action-bar">
        <button type="submit" disabled={send.isPending}>
          Replay the edit
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
      <ActionResult status={status} error={send.error?.message} />
    </form>
  );
}

/** A letter replayed with an edit: the original and what was sent instead, side by side. */
export function EditedBeside({ letter }: { letter: DeadLetterView }) {
  const edit = letter.edit;
  if (!edit) return null;
  return (
    <details open data-testid="letter-edit">
      <summary className="small">compare the original with the edit that was replayed</summary>
      <div className="compare">
        <figure>
          <figcaption className="small muted">original · key {letter.key ?? "(none)"}</figcaption>
          <pre className="payload" data-testid="letter-original">
            {prettyJson(letter.valuePreview)}
          </pre>
        </figure>
        <figure>
          <figcaption className="small muted">edit · key {edit.key ?? "(none)"}</figcaption>
          <pre className="payload" data-testid="letter-edited">
            {prettyJson(edit.valuePreview)}
          </pre>
          <pre className="payload small">{JSON.stringify(edit.headers, null, 2)}</pre>
        </figure>
      </div>
    </details>
  );
}
