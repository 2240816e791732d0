// The rule of docs/database.md on the two ways to the database, checked on every `npm test`:
// the Prisma client only reads, only in server/dashboard, and only with its read methods
// (one model, a filter, an order, a limit; or a raw read); everything else (writes, set-based
// SQL built at run time, COPY, anything on the ingester's or projector's hot path) goes
// through `pg` (server/db/pool.ts). A call found elsewhere fails the suite with where it is.
import { readFileSync } from "node:fs";
import path from "node:path";
import { sourceFiles } from "./import-boundaries.ts";

const READS = new Set(["findMany", "findFirst", "findUnique", "count", "aggregate", "groupBy", "$queryRaw"]);
const WHERE_PRISMA_READS = /^server\/dashboard\//;
/** The client's own life (connect, disconnect, query events), not data access: allowed anywhere. */
const LIFECYCLE = new Set(["$connect", "$disconnect", "$on"]);

export interface PrismaCall {
  file: string;
  line: number;
  call: string;
}

/** `prisma.<model>.<method>(` and `prisma.$<method>(` (or a tagged template) calls in a file's text. */
export function prismaCalls(text: string): { line: number; call: string; method: string }[] {
  const out: { line: number; call: string; method: string }[] = [];
  const call = /\bprisma\s*\.\s*(\$\w+|\w+\s*\.\s*(\w+))\s*[<(`]/g;
  for (const m of text.matchAll(call)) {
    const method = (m[2] ?? m[1]) as string;
    out.push({
      line: text.slice(0, m.index).split("\n").length,
      call: (m[1] as string).replace(/\s/g, ""),
      method,
    });
  }
  return out;
}

/** Every Prisma call in product code that breaks the rule, with why. */
export function prismaBreaches(root = "."): (PrismaCall & { why: string })[] {
  const breaches: (PrismaCall & { why: string })[] = [];
  for (const dir of ["server", "app", "components", "scripts"]) {
    for (const file of sourceFiles(path.posix.join(root, dir))) {
      const relative = path.posix.relative(root, file);
      for (const c of prismaCalls(readFileSync(file, "utf8"))) {
        if (LIFECYCLE.has(c.method)) continue;
        if (!READS.has(c.method))
          breaches.push({ file: relative, ...c, why: `${c.method} is not a read: write through pg` });
        else if (!WHERE_PRISMA_READS.test(relative))
          breaches.push({ file: relative, ...c, why: "Prisma reads live in server/dashboard" });
      }
    }
  }
  return breaches;
}
