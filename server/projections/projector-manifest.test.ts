// The projector reads what the fleet's manifest says to project, and nothing built in: with
// no manifest, or one that lists no projectedServices, it refuses to start and says why.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

const startProjector = (manifest: string | undefined) =>
  spawnSync("node_modules/.bin/tsx", ["server/projections/main.ts"], {
    env: {
      ...process.env,
      SAGASCOPE_FLEET_MANIFEST: manifest ?? "",
      SAGASCOPE_LOG_LEVEL: "info",
    },
    encoding: "utf8",
    timeout: 60_000,
  });

describe("the projector's sources", () => {
  it("are the fleet's to say: without projectedServices it refuses to start, saying why", () => {
    const none = startProjector(undefined);
    expect(none.status).toBe(2);
    expect(`${none.stdout}${none.stderr}`).toContain("nothing to project");
    const dir = mkdtempSync(path.join(tmpdir(), "projector-"));
    const empty = path.join(dir, "fleet.json");
    writeFileSync(empty, JSON.stringify({ version: 1, faultSwitches: ["billing"] }));
    const listsNone = startProjector(empty);
    expect(listsNone.status).toBe(2);
    expect(`${listsNone.stdout}${listsNone.stderr}`).toContain("lists no projectedServices");
  });
});
