// The demo fleet describes itself to the dashboard like any fleet would: in a manifest
// (fleet-manifest.json, beside this file), whose path the demo hands to the web process.
import { fileURLToPath } from "node:url";

export const DEMO_FLEET_MANIFEST_PATH = fileURLToPath(new URL("./fleet-manifest.json", import.meta.url));
