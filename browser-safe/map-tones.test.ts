// The map's colours: breaker edges by what the breaker does now (an override wins), rates and
// lags by their thresholds, no rate when nothing was called.
import { describe, expect, it } from "vitest";
import {
  breakerTone,
  ERROR_RATE_BAD,
  ERROR_RATE_WARN,
  errorRate,
  LAG_BAD_MS,
  LAG_WARN_MS,
  lagTone,
  rateTone,
  shownBreakerState,
} from "./map-tones.ts";

describe("breaker edges", () => {
  it.each([
    ["closed", null, "closed", "ok"],
    ["half_open", null, "half_open", "warn"],
    ["open", null, "open", "bad"],
    // An operator's override is what the callers obey, whatever the machine says.
    ["closed", "open", "open", "bad"],
    ["open", "closed", "closed", "ok"],
    ["open", "disabled", "disabled", "idle"],
  ] as const)("state %s forced %s shows %s in %s", (state, forced, shown, tone) => {
    expect(shownBreakerState(state, forced)).toBe(shown);
    expect(breakerTone(shownBreakerState(state, forced))).toBe(tone);
  });
});

describe("error rates", () => {
  it("is failures over calls, and no rate at all without calls", () => {
    expect(errorRate(1, 4)).toBe(0.25);
    expect(errorRate(0, 10)).toBe(0);
    expect(errorRate(0, 0)).toBeNull();
  });

  it("turns amber and red at the thresholds, grey without a rate", () => {
    expect(rateTone(null)).toBe("idle");
    expect(rateTone(0)).toBe("ok");
    expect(rateTone(ERROR_RATE_WARN - 0.001)).toBe("ok");
    expect(rateTone(ERROR_RATE_WARN)).toBe("warn");
    expect(rateTone(ERROR_RATE_BAD - 0.001)).toBe("warn");
    expect(rateTone(ERROR_RATE_BAD)).toBe("bad");
    expect(rateTone(1)).toBe("bad");
  });
});

describe("lag", () => {
  it("is fine with nothing waiting, amber then red as the oldest waiting change ages", () => {
    expect(lagTone(null)).toBe("ok");
    expect(lagTone(LAG_WARN_MS - 1)).toBe("ok");
    expect(lagTone(LAG_WARN_MS)).toBe("warn");
    expect(lagTone(LAG_BAD_MS)).toBe("bad");
  });
});
