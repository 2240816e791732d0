// The published JSON Schemas must be what the zod schemas generate today.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { eventJsonSchemas, schemaFileName } from "./json-schemas.ts";
import { encodeSagaEvent, sagaEvent } from "./saga-event-codec.ts";
import { newTrace } from "./trace-context.ts";

const dir = path.resolve("docs/events/schemas");

describe("published JSON Schemas", () => {
  it("are up to date with the zod schemas (run `npm run gen:schemas` after a change)", () => {
    const schemas = eventJsonSchemas();
    expect(readdirSync(dir).sort()).toEqual(Object.keys(schemas).map(schemaFileName).sort());
    for (const [type, schema] of Object.entries(schemas)) {
      expect(JSON.parse(readFileSync(path.join(dir, schemaFileName(type)), "utf8")), type).toEqual(schema);
    }
  });

  it("describe what a producer sends: required fields are required", () => {
    const schema = eventJsonSchemas()["io.sagascope.saga.step.failed"] as { required: string[] };
    expect(schema.required).toEqual(expect.arrayContaining(["sagaId", "step", "error", "willRetry"]));
    expect(schema.required).not.toContain("attempt");
    const message = encodeSagaEvent(
      sagaEvent(
        "io.sagascope.saga.completed",
        { sagaId: "s", sagaType: "t", mode: "orchestrated", durationMs: 1 },
        {
          source: "/x",
          trace: newTrace(),
        },
      ),
    );
    expect(Object.keys(JSON.parse(String(message.value)))).toEqual([
      "sagaId",
      "sagaType",
      "mode",
      "durationMs",
    ]);
  });
});
