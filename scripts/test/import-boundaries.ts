// The import rules of docs/architecture.md, checked on every `npm test`: each rule names the
// importers it covers and what they may not import (runtime values: `import type` is free,
// types vanish from the bundle). A breach fails the suite with the rule's name. Imports that
// broke a rule when the rules were written are listed in KNOWN_BREACHES, to be removed as the
// code is moved (issue: a house that keeps its shape); a listed breach that no longer exists
// fails too, so the list only ever shrinks.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

export interface Rule {
  name: string;
  why: string;
  /** Files the rule applies to (paths from the repository root). */
  importers: RegExp;
  /** What they may not import (resolved paths from the root). */
  forbidden: RegExp;
  /** Exceptions within `forbidden`. */
  allowed?: RegExp;
}

export const RULES: Rule[] = [
  {
    name: "ui-reaches-the-server-through-trpc",
    why: "the browser's code talks to the server over tRPC; server modules hold database drivers and secrets",
    importers: /^(components|app\/\(dashboard\))\//,
    forbidden: /^server\//,
  },
  {
    name: "browser-safe-imports-nothing-server-side",
    why: "browser-safe/ holds the pure rules (schemas, names, labels) that the browser and the server share; the browser bundle takes it whole",
    importers: /^browser-safe\//,
    forbidden: /^(server|app|components|scripts)\//,
  },
  {
    name: "product-does-not-know-the-demo-fleet",
    why: "Sagascope watches anyone's fleet; the demo fleet is one customer, built on the public libraries",
    importers: /^server\/(?!fleet\/)/,
    forbidden: /^server\/fleet\//,
    allowed: /^server\/cli\.ts$/,
  },
  {
    name: "libraries-stand-alone",
    why: "the saga runtime, the breaker, the fault switches and the event contract are libraries a fleet imports; they know nothing of the dashboard",
    importers: /^server\/(sagas|breakers|events|fault-switches)\//,
    forbidden:
      /^(server\/(dashboard|actions|trpc|ingest|alerts|auth|live|metrics\/dashboard)|app|components)\//,
  },
  {
    name: "reads-do-not-write",
    why: "server/dashboard reads; writes live in server/actions and may share a small read interface",
    importers: /^server\/dashboard\//,
    forbidden: /^server\/actions\//,
  },
  {
    name: "writes-do-not-import-pages-reads",
    why: "server/actions acts; it does not reach into the dashboard's read models",
    importers: /^server\/actions\//,
    forbidden: /^server\/dashboard\//,
  },
];

/** Breaches present when the rules were written: importer → imported, per rule. Only shrinks. */
export const KNOWN_BREACHES: Record<string, string[]> = {
  "ui-reaches-the-server-through-trpc": [],
  "product-does-not-know-the-demo-fleet": [],
  "libraries-stand-alone": [],
  "reads-do-not-write": [],
  "writes-do-not-import-pages-reads": [],
};

const SOURCE = /\.(ts|tsx)$/;
const SKIP = /(^|\/)(node_modules|\.next|dist|generated|\.sagascope)(\/|$)/;

/** Product source files under `dir` (tests, builds and generated code left out). */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const file = path.posix.join(dir, name);
    if (SKIP.test(file)) continue;
    if (statSync(file).isDirectory()) out.push(...sourceFiles(file));
    else if (SOURCE.test(name) && !/\.test\.tsx?$/.test(name)) out.push(file);
  }
  return out;
}

/** Runtime imports of a file (type-only ones left out), as written. */
export function runtimeImports(text: string): string[] {
  const found: string[] = [];
  const statement = /(?:^|\n)\s*(import|export)\s+([\s\S]*?)\s+from\s+["']([^"']+)["']/g;
  for (const m of text.matchAll(statement)) {
    const clause = (m[2] as string).trim();
    if (/^type\s/.test(clause)) continue;
    const braces = /^\{([\s\S]*)\}$/.exec(clause);
    if (braces && (braces[1] as string).split(",").every((s) => s.trim() === "" || /^type\s/.test(s.trim())))
      continue;
    found.push(m[3] as string);
  }
  for (const m of text.matchAll(/(?:^|\n)\s*import\s+["']([^"']+)["']/g)) found.push(m[1] as string);
  for (const m of text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) found.push(m[1] as string);
  return found;
}

function resolve(importer: string, specifier: string): string | undefined {
  if (specifier.startsWith("@/")) return specifier.slice(2);
  if (specifier.startsWith("."))
    return path.posix.normalize(path.posix.join(path.posix.dirname(importer), specifier));
  return undefined;
}

export interface Breach {
  rule: string;
  edge: string;
}

export function findBreaches(roots = ["app", "components", "server"]): Breach[] {
  const breaches: Breach[] = [];
  for (const file of roots.flatMap(sourceFiles)) {
    const text = readFileSync(file, "utf8");
    for (const specifier of runtimeImports(text)) {
      const target = resolve(file, specifier);
      if (!target) continue;
      for (const rule of RULES)
        if (rule.importers.test(file) && rule.forbidden.test(target) && !rule.allowed?.test(file))
          breaches.push({ rule: rule.name, edge: `${file} → ${target}` });
    }
  }
  return breaches;
}

/**
 * The web process's own layer (the API's routers, context and routes beside it): every module
 * is marked `import "server-only"`, so a client component that reaches one fails the Next
 * build, whatever path it took. The rest of server/ is shared with the other processes.
 */
export const SERVER_ONLY_LAYER = /^server\/trpc\//;

/** Modules of SERVER_ONLY_LAYER without the marker. */
export function unmarkedServerOnly(roots = ["server"]): string[] {
  return roots
    .flatMap(sourceFiles)
    .filter((file) => SERVER_ONLY_LAYER.test(file))
    .filter((file) => !runtimeImports(readFileSync(file, "utf8")).includes("server-only"));
}
