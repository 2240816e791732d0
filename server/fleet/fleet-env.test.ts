// The fleet's settings are its own: a fleet process checks them (and the product's connection
// settings it shares), a product process neither reads nor checks them.
import { describe, expect, it } from "vitest";
import { parseEnv } from "../env.ts";
import { parseFleetEnv } from "./fleet-env.ts";

describe("the fleet's settings", () => {
  it("default the fleet's database to a sibling of DATABASE_URL, and take the product's connection settings", () => {
    const source = { DATABASE_URL: "postgresql://u@db:5432/shop", KAFKA_BROKERS: "k:9092" };
    const fleet = parseFleetEnv(source, parseEnv(source));
    expect(fleet.FLEET_DATABASE_URL).toBe("postgresql://u@db:5432/shop_fleet");
    expect(fleet.KAFKA_BROKERS).toEqual(["k:9092"]);
    expect(fleet.FLEET_STEP_TIMEOUT_MS).toBe(2000);
  });

  it("are refused by a fleet process when wrong, and ignored by a product process", () => {
    const source = { FLEET_BANK: "bank-z", FLEET_BANK_A_ADDRESS: "nowhere" };
    const product = parseEnv(source);
    expect(product).not.toHaveProperty("FLEET_BANK");
    expect(() => parseFleetEnv(source, product)).toThrow(
      /^invalid fleet configuration: FLEET_BANK: .*; FLEET_BANK_A_ADDRESS: expected host:port/,
    );
  });
});
