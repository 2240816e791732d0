import { describe, expect, it } from "vitest";
import { EnvError, parseEnv } from "./env.ts";

describe("configuration", () => {
  it("has local defaults and remembers that nothing was given", () => {
    const env = parseEnv({});
    expect(env.KAFKA_BROKERS).toEqual(["127.0.0.1:9092"]);
    expect(env.DATABASE_URL).toMatch(/^postgresql:\/\/.*127\.0\.0\.1:5432\/sagascope$/);
    expect(env.given).toEqual({ database: false, redis: false, kafka: false });
  });

  it("takes the user's servers and marks them as given", () => {
    const env = parseEnv({
      KAFKA_BROKERS: "k1:9092, k2:9092",
      DATABASE_URL: "postgres://u:p@db:5432/x",
      REDIS_URL: "redis://r:6379/2",
    });
    expect(env.KAFKA_BROKERS).toEqual(["k1:9092", "k2:9092"]);
    expect(env.given).toEqual({ database: true, redis: true, kafka: true });
  });

  it("names every invalid setting in one clear error", () => {
    expect(() => parseEnv({ KAFKA_BROKERS: "nohost", DATABASE_URL: "mysql://x", PORT: "99999" })).toThrow(
      EnvError,
    );
    try {
      parseEnv({ KAFKA_BROKERS: "nohost", DATABASE_URL: "mysql://x" });
    } catch (error) {
      expect((error as Error).message).toMatch(/KAFKA_BROKERS.*host:port/);
      expect((error as Error).message).toMatch(/DATABASE_URL/);
    }
  });

  it("sends session cookies over HTTPS only in production mode unless told otherwise", () => {
    expect(parseEnv({}).SAGASCOPE_COOKIE_SECURE).toBe(true);
    expect(parseEnv({ SAGASCOPE_MODE: "demo" }).SAGASCOPE_COOKIE_SECURE).toBe(false);
    expect(parseEnv({ SAGASCOPE_COOKIE_SECURE: "off" }).SAGASCOPE_COOKIE_SECURE).toBe(false);
    expect(parseEnv({ SAGASCOPE_MODE: "demo", SAGASCOPE_COOKIE_SECURE: "on" }).SAGASCOPE_COOKIE_SECURE).toBe(
      true,
    );
    expect(() => parseEnv({ SAGASCOPE_COOKIE_SECURE: "yes" })).toThrow(/SAGASCOPE_COOKIE_SECURE/);
  });

  it("treats empty variables as unset", () => {
    expect(parseEnv({ KAFKA_BROKERS: "" }).given.kafka).toBe(false);
  });
});
