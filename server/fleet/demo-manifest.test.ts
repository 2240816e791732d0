// The demo fleet's manifest says what its code does: the checkout's participants share one
// topic, each publishing to it and reading it, and every service that obeys fault switches
// is offered on the fault panel.
import { describe, expect, it } from "vitest";
import { readFleetManifest } from "../fleet-manifest/fleet-manifest.ts";
import { CHECKOUT_SERVICES, checkoutTopic } from "./checkout/checkout-saga.ts";
import { DEMO_FLEET_MANIFEST_PATH } from "./demo-manifest.ts";

describe("the demo fleet's manifest", () => {
  const manifest = readFleetManifest(DEMO_FLEET_MANIFEST_PATH);

  it("names the checkout's topic and its participants as the code wires them", () => {
    expect(manifest.topics).toEqual([
      { name: checkoutTopic(""), publishers: [...CHECKOUT_SERVICES], consumers: [...CHECKOUT_SERVICES] },
    ]);
  });

  it("offers every service that obeys fault switches: the banks, screening and the checkout's four", () => {
    expect(manifest.faultSwitches).toEqual(["bank-a", "bank-b", "screening", ...CHECKOUT_SERVICES]);
  });
});
