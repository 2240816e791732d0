// JSON Schemas of every event type's data, generated from the zod schemas (never written
// twice). scripts/gen-event-schemas.ts writes them under docs/events/schemas.
import { z } from "zod";
import { BREAKER_CONTROL_TYPE, BreakerControlSchema } from "./breaker-control.ts";
import { breakerEventDataSchemas } from "./breaker-events.ts";
import { projectionEventDataSchemas } from "./projection-events.ts";
import { sagaEventDataSchemas } from "./saga-events.ts";

export function eventJsonSchemas(): Record<string, object> {
  const all: Record<string, z.ZodType> = {
    ...sagaEventDataSchemas,
    ...breakerEventDataSchemas,
    ...projectionEventDataSchemas,
    [BREAKER_CONTROL_TYPE]: BreakerControlSchema,
  };
  return Object.fromEntries(
    Object.entries(all).map(([type, schema]) => [
      type,
      {
        ...z.toJSONSchema(schema, { io: "input", target: "draft-2020-12" }),
        $id: `https://sagascope.dev/schemas/events/${type}.json`,
        title: type,
        description: `The data (Kafka message value) of a ${type} event. Attributes travel as ce_* headers.`,
      },
    ]),
  );
}

export const schemaFileName = (type: string) => `${type}.json`;
