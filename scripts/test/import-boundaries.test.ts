// The import rules hold (scripts/test/import-boundaries.ts): no new breach, and a breach fixed
// comes off the known list; the web's own layer is marked server-only.
import { describe, expect, it } from "vitest";
import {
  findBreaches,
  KNOWN_BREACHES,
  RULES,
  runtimeImports,
  SERVER_ONLY_LAYER,
  unmarkedServerOnly,
} from "./import-boundaries.ts";

describe("import boundaries", () => {
  const breaches = findBreaches();
  for (const rule of RULES)
    it(`${rule.name}: ${rule.why}`, () => {
      const found = [...new Set(breaches.filter((b) => b.rule === rule.name).map((b) => b.edge))].sort();
      const known = [...(KNOWN_BREACHES[rule.name] ?? [])].sort();
      const added = found.filter((e) => !known.includes(e));
      const fixed = known.filter((e) => !found.includes(e));
      expect(added, `new imports breaking ${rule.name}`).toEqual([]);
      expect(fixed, `fixed breaches of ${rule.name}: take them off KNOWN_BREACHES`).toEqual([]);
    });

  it(`every module of ${SERVER_ONLY_LAYER.source} is marked server-only`, () => {
    expect(unmarkedServerOnly(), 'add import "server-only" to these').toEqual([]);
  });

  it("tells runtime imports from type-only ones", () => {
    const text = [
      'import type { A } from "./a.ts";',
      'import { type B, type C } from "./b.ts";',
      'import { type D, e } from "./d.ts";',
      'import f from "./f.ts";',
      'export { g } from "./g.ts";',
      'import "./side-effect.ts";',
      'const lazy = () => import("./lazy.ts");',
      'import {\n  h,\n  type I,\n} from "./h.ts";',
    ].join("\n");
    expect(runtimeImports(text).sort()).toEqual(
      ["./d.ts", "./f.ts", "./g.ts", "./h.ts", "./lazy.ts", "./side-effect.ts"].sort(),
    );
  });
});
