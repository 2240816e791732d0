// A fleet describes itself to the dashboard in a manifest (a JSON file named by
// SAGASCOPE_FLEET_MANIFEST): the topics its services share, with who publishes and who reads
// each (a Kafka message names its producer, never its consumers), the services that obey
// fault switches (server/fault-switches) for drills, and the services whose change topics the
// shipped projector reads. The dashboard reads any such manifest, or none: without one, the
// service map draws only what the data shows and the fault panel offers only the projector's
// pause. Topic names are given without the deployment's prefix (SAGASCOPE_TOPIC_PREFIX),
// which is put in front of them.
import { readFileSync } from "node:fs";
import { z } from "zod";

/** Bounds of a manifest: it is read once, at start, and shown on every service-map request. */
export const MANIFEST_LIMITS = { bytes: 256 * 1024, topics: 200, services: 200 } as const;

const name = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/,
    "a name of letters, digits, '.', '_', ':' or '-' (at most 100)",
  );
const services = z.array(name).max(MANIFEST_LIMITS.services).default([]);

export const FleetManifestSchema = z
  .object({
    version: z.literal(1),
    /** Topics the fleet's services share (without the deployment's prefix). */
    topics: z
      .array(z.object({ name, publishers: services, consumers: services }).strict())
      .max(MANIFEST_LIMITS.topics)
      .default([]),
    /** Services that obey fault switches: the fault panel offers them. */
    faultSwitches: services,
    /**
     * Services whose change topics (`sagascope.fleet.<service>.changes`) the shipped projector
     * reads into its read model; the service map draws them as read by the projector.
     */
    projectedServices: services,
  })
  .strict();
export type FleetManifest = z.infer<typeof FleetManifestSchema>;

/** What the dashboard knows of a fleet that describes nothing. */
export const NO_MANIFEST: FleetManifest = {
  version: 1,
  topics: [],
  faultSwitches: [],
  projectedServices: [],
};

/** A manifest that cannot be used: the message says which file, and what is wrong where. */
export class FleetManifestError extends Error {
  override name = "FleetManifestError";
}

export function parseFleetManifest(text: string, origin: string): FleetManifest {
  if (Buffer.byteLength(text) > MANIFEST_LIMITS.bytes)
    throw new FleetManifestError(`${origin}: larger than ${MANIFEST_LIMITS.bytes} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new FleetManifestError(`${origin}: not JSON (${(error as Error).message})`);
  }
  const parsed = FleetManifestSchema.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
      .join("; ");
    throw new FleetManifestError(`${origin}: not a fleet manifest (${where})`);
  }
  return parsed.data;
}

/** The manifest at `path`, or NO_MANIFEST when no path is set. */
export function readFleetManifest(path: string | undefined): FleetManifest {
  if (!path) return NO_MANIFEST;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new FleetManifestError(
      `SAGASCOPE_FLEET_MANIFEST=${path}: cannot be read (${(error as Error).message})`,
    );
  }
  return parseFleetManifest(text, `SAGASCOPE_FLEET_MANIFEST=${path}`);
}
