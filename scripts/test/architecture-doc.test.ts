// docs/architecture.md is drawn from the code and kept so: its folder table names every
// folder of the repository and of server/ (and nothing that is gone), and its table of
// import rules names exactly the rules the suite checks (import-boundaries.ts).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { RULES } from "./import-boundaries.ts";

const doc = readFileSync("docs/architecture.md", "utf8");
const section = (title: string) => {
  const start = doc.indexOf(`## ${title}`);
  if (start < 0) throw new Error(`docs/architecture.md lost its "${title}" section`);
  const end = doc.indexOf("\n## ", start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
};
/** The first column of a section's table, without its backquotes. */
const firstColumn = (text: string) =>
  [...text.matchAll(/^\| `([^`]+)`/gm)].map((m) => m[1] as string).filter((name) => name !== "folder");

// Made by installs, builds and test runs (.gitignore), not written.
const NOT_SOURCE = new Set(["node_modules", "test-results", "playwright-report", "dist"]);
const folders = (dir: string) =>
  readdirSync(dir)
    .filter((name) => !NOT_SOURCE.has(name) && !name.startsWith("."))
    .filter((name) => statSync(`${dir}/${name}`).isDirectory())
    .map((name) => (dir === "." ? `${name}/` : `${dir}/${name}/`));

describe("docs/architecture.md", () => {
  const listed = firstColumn(section("Folders"));

  it("names every folder of the repository and of server/, and only folders that exist", () => {
    const wanted = [...folders("."), ...folders("server")].filter((f) => f !== "server/");
    expect(
      wanted.filter((f) => !listed.includes(f)),
      "folders the doc does not name",
    ).toEqual([]);
    const gone = listed.filter((entry) => {
      try {
        statSync(entry);
        return false;
      } catch {
        return true;
      }
    });
    expect(gone, "entries of the doc that no longer exist").toEqual([]);
  });

  it("lists exactly the import rules the suite checks", () => {
    expect(firstColumn(section("Import rules, checked")).sort()).toEqual(RULES.map((r) => r.name).sort());
  });
});
