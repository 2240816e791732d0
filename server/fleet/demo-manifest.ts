// The demo fleet describes itself to the dashboard like any fleet would: in a manifest
// (fleet-manifest.json, beside this file), whose path the demo hands to its processes.
import { fileURLToPath } from "node:url";
import { readFleetManifest } from "../fleet-manifest/fleet-manifest.ts";

export const DEMO_FLEET_MANIFEST_PATH = fileURLToPath(new URL("./fleet-manifest.json", import.meta.url));

/** The demo fleet's manifest, read and checked as the dashboard reads any. */
export const demoFleetManifest = () => readFleetManifest(DEMO_FLEET_MANIFEST_PATH);
