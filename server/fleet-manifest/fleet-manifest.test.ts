// A fleet manifest is read once and checked whole: none is no wiring at all, and one that
// cannot be used says which file and what is wrong where, instead of being half-believed.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { faultServices } from "../actions/fault-actions.ts";
import { knownWiring } from "../dashboard/service-map/known-wiring.ts";
import { projectedTopics } from "../projections/fleet-topics.ts";
import { MANIFEST_LIMITS, NO_MANIFEST, parseFleetManifest, readFleetManifest } from "./fleet-manifest.ts";

const dir = mkdtempSync(path.join(tmpdir(), "manifest-"));
const file = (name: string, text: string) => {
  const at = path.join(dir, name);
  writeFileSync(at, text);
  return at;
};

describe("the fleet manifest", () => {
  it("is none when no path is set", () => {
    expect(readFleetManifest(undefined)).toEqual(NO_MANIFEST);
  });

  it("reads topics with their publishers and consumers, and the services with fault switches", () => {
    const at = file(
      "good.json",
      JSON.stringify({
        version: 1,
        topics: [{ name: "acme.invoices", publishers: ["billing"] }],
        faultSwitches: ["billing"],
      }),
    );
    expect(readFleetManifest(at)).toEqual({
      version: 1,
      topics: [{ name: "acme.invoices", publishers: ["billing"], consumers: [] }],
      faultSwitches: ["billing"],
      projectedServices: [],
    });
  });

  it("says which services' change topics the projector reads, for the projector and the service map alike", () => {
    const manifest = parseFleetManifest(
      JSON.stringify({ version: 1, projectedServices: ["billing", "ledger"] }),
      "m",
    );
    expect(projectedTopics("prod.", manifest)).toEqual([
      "prod.sagascope.fleet.billing.changes",
      "prod.sagascope.fleet.ledger.changes",
    ]);
    expect([...knownWiring("prod.", manifest).changeTopics]).toEqual([
      ["prod.sagascope.fleet.billing.changes", "billing"],
      ["prod.sagascope.fleet.ledger.changes", "ledger"],
    ]);
    expect(projectedTopics("prod.", NO_MANIFEST)).toEqual([]);
    expect(knownWiring("prod.", NO_MANIFEST).changeTopics.size).toBe(0);
  });

  it("refuses what it cannot use, naming the file and the place", () => {
    expect(() => readFleetManifest(path.join(dir, "missing.json"))).toThrow(
      /^SAGASCOPE_FLEET_MANIFEST=.*missing\.json: cannot be read/,
    );
    expect(() => readFleetManifest(file("broken.json", "{ version: 1"))).toThrow(/broken\.json: not JSON/);
    expect(() => parseFleetManifest(JSON.stringify({ version: 2 }), "m")).toThrow(
      /^m: not a fleet manifest \(version: /,
    );
    expect(() =>
      parseFleetManifest(JSON.stringify({ version: 1, topics: [{ name: "a b", consumers: ["x"] }] }), "m"),
    ).toThrow(/topics\.0\.name: a name of letters/);
    expect(() => parseFleetManifest(JSON.stringify({ version: 1, faultSwitch: ["typo"] }), "m")).toThrow(
      /not a fleet manifest \(\(root\): Unrecognized key/,
    );
    const many = {
      version: 1,
      faultSwitches: Array.from({ length: MANIFEST_LIMITS.services + 1 }, (_, i) => `s${i}`),
    };
    expect(() => parseFleetManifest(JSON.stringify(many), "m")).toThrow(/faultSwitches: /);
    expect(() => parseFleetManifest(" ".repeat(MANIFEST_LIMITS.bytes + 1), "m")).toThrow(
      `m: larger than ${MANIFEST_LIMITS.bytes} bytes`,
    );
  });
});

describe("docs/fleet-manifest.md", () => {
  it("shows a manifest the dashboard reads, whose fleet the service map draws", () => {
    const doc = readFileSync("docs/fleet-manifest.md", "utf8");
    const block = /<!-- fleet-manifest-example -->\n```json\n([\s\S]*?)```/.exec(doc)?.[1];
    if (!block) throw new Error("docs/fleet-manifest.md lost its example");
    const manifest = readFleetManifest(file("example.json", block));
    const wiring = knownWiring("prod.", manifest);
    expect(wiring.fleetTopics.map((t) => [t.topic, [...t.publishers], [...t.consumers]])).toEqual([
      ["prod.acme.invoices", ["billing"], ["mailer", "ledger"]],
      ["prod.acme.payments", ["payments"], ["billing"]],
    ]);
    expect(faultServices(manifest)).toEqual(["billing", "mailer", "projector"]);
  });
});
