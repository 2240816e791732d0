"use client";
// A confirmation for an action that changes things: what will happen, an optional or
// required reason, and the button that does it. Escape or Cancel closes it.
import { type ReactNode, useEffect, useRef, useState } from "react";

export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  reason,
  busy,
  disabled,
  onConfirm,
  onCancel,
}: {
  title: string;
  children?: ReactNode;
  confirmLabel: string;
  /** "required": the action needs a reason; "optional": may carry one; absent: none. */
  reason?: "required" | "optional";
  busy?: boolean;
  /** Nothing to confirm (e.g. an empty set): the button stays off. */
  disabled?: boolean;
  onConfirm: (reason: string) => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [text, setText] = useState("");
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  const missing = reason === "required" && !text.trim();
  return (
    <dialog ref={ref} className="confirm-dialog" aria-label={title} onCancel={onCancel}>
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          if (!missing) onConfirm(text.trim());
        }}
      >
        <h2>{title}</h2>
        {children}
        {reason && (
          <label className="reason">
            Reason{reason === "required" ? " (required)" : " (optional)"}
            <textarea value={text} onChange={(e) => setText(e.target.value)} rows={2} maxLength={2000} />
          </label>
        )}
        <div className="dialog-buttons">
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className="danger" disabled={missing || busy || disabled}>
            {busy ? "Working…" : confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
