import { describe, expect, it } from "vitest";
import { createSignInThrottle } from "./sign-in-throttle.ts";

describe("sign-in throttle", () => {
  it("refuses after the fifth failure within the window, until it has passed; a success clears it", () => {
    const throttle = createSignInThrottle({ maxFailures: 5, windowMs: 60_000 });
    const keys = ["email:a@x.test", "ip:1.2.3.4"];
    for (let i = 0; i < 4; i++) throttle.failed(keys, 1000 + i);
    expect(throttle.retryAfterMs(keys, 2000)).toBe(0);
    throttle.failed(keys, 1004);
    expect(throttle.retryAfterMs(keys, 2000)).toBe(59_000);
    expect(throttle.retryAfterMs(["email:b@x.test"], 2000)).toBe(0);
    expect(throttle.retryAfterMs(keys, 61_001)).toBe(0);
    throttle.failed(keys, 70_000);
    throttle.succeeded(keys);
    expect(throttle.retryAfterMs(keys, 70_001)).toBe(0);
  });
});
