// What every saga-scoped event names: the saga, its type and its mode.
import { z } from "zod";

export const name = z.string().min(1).max(200);

export const SagaModeSchema = z.enum(["orchestrated", "choreographed"]);
export type SagaMode = z.infer<typeof SagaModeSchema>;

// Loose: fields a newer producer adds are kept and stored, not silently dropped.
export const SagaRef = z.looseObject({
  sagaId: name.describe("Unique id of the saga instance; also the Kafka message key"),
  sagaType: name.describe("Name of the saga definition, e.g. interbank-transfer"),
  mode: SagaModeSchema,
});
