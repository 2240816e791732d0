// `npm run gen:schemas`: writes docs/events/schemas/*.json from the zod event schemas.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { eventJsonSchemas, schemaFileName } from "../server/events/json-schemas.ts";

const dir = path.resolve("docs/events/schemas");
mkdirSync(dir, { recursive: true });
for (const stale of readdirSync(dir)) rmSync(path.join(dir, stale));
const schemas = eventJsonSchemas();
for (const [type, schema] of Object.entries(schemas)) {
  writeFileSync(path.join(dir, schemaFileName(type)), `${JSON.stringify(schema, null, 2)}\n`);
}
console.log(`wrote ${Object.keys(schemas).length} JSON Schemas to docs/events/schemas`);
