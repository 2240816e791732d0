// A failed load said plainly, never a blank page.
export function ErrorPanel({ title, message }: { title: string; message: string }) {
  return (
    <div className="panel panel-error" role="alert">
      <strong>{title}</strong>
      <p>{message}</p>
    </div>
  );
}
