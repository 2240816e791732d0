// Where to go after signing in: a path on this site only. `next=//elsewhere.example` (a
// protocol-relative URL), `/\\elsewhere.example` (browsers read the backslash as a slash) and
// absolute URLs would take the user off the site with a fresh session: they go to the overview.
const FALLBACK = "/overview";

export function safeNextPath(next: string | null | undefined): string {
  if (!next?.startsWith("/") || next.startsWith("//") || next.includes("\\")) return FALLBACK;
  try {
    const base = "http://sagascope.invalid";
    const url = new URL(next, base);
    if (url.origin !== base) return FALLBACK;
    return `${url.pathname}${url.search}${url.hash}`;
  } catch {
    return FALLBACK;
  }
}
