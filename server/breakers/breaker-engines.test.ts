// One table of scenarios, two engines: the pure machine (a caller's local fallback) and the
// Lua scripts on the shared state in real Redis. Both must reach the same states.
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import {
  type BreakerConfig,
  BreakerConfigSchema,
  type ForcedState,
} from "../../browser-safe/breaker-config.ts";
import { testInfra, uniqueName } from "../../scripts/test/infra.ts";
import {
  acquireTrial,
  type BreakerSnapshot,
  type BreakerStateName,
  decide,
  force,
  initialSnapshot,
  recordOutcomes,
  reportTrial,
  reset,
  type WindowCounts,
} from "./breaker-machine.ts";
import { createBreakerStore } from "./breaker-store.ts";

type Op =
  | { op: "record"; calls: number; failures: number; at: number }
  | { op: "acquire"; at: number }
  | { op: "report"; ok: boolean; at: number }
  | { op: "force"; forced: ForcedState | null; until?: number; at: number }
  | { op: "reset"; at: number };
type Expect = {
  state: BreakerStateName;
  granted?: boolean;
  openUntil?: number;
  opens?: number;
  transition?: string;
};
type Scenario = { name: string; config?: Partial<BreakerConfig>; steps: [Op, Expect][] };

const CONFIG = {
  failureRate: 0.5,
  minimumCalls: 4,
  windowMs: 10_000,
  openMs: 1000,
  maxOpenMs: 4000,
  halfOpenPermits: 2,
};
const rec = (calls: number, failures: number, at: number): Op => ({ op: "record", calls, failures, at });
const acq = (at: number): Op => ({ op: "acquire", at });
const rep = (ok: boolean, at: number): Op => ({ op: "report", ok, at });

const SCENARIOS: Scenario[] = [
  {
    name: "opens at the threshold with enough calls; half-open lets the quota through; successes close it",
    steps: [
      [rec(3, 3, 0), { state: "closed" }],
      [rec(1, 0, 100), { state: "open", openUntil: 1100, opens: 1, transition: "closed→open" }],
      [acq(500), { state: "open", granted: false }],
      [acq(1100), { state: "half_open", granted: true, transition: "open→half_open" }],
      [acq(1101), { state: "half_open", granted: true }],
      [acq(1102), { state: "half_open", granted: false, transition: undefined }],
      [rep(true, 1200), { state: "half_open" }],
      [rep(true, 1201), { state: "closed", opens: 0, transition: "half_open→closed" }],
      [acq(1300), { state: "closed", granted: true }],
    ],
  },
  {
    name: "a failed trial opens it again for twice as long, up to the maximum",
    steps: [
      [rec(4, 4, 0), { state: "open", openUntil: 1000 }],
      [acq(1000), { state: "half_open", granted: true }],
      [rep(false, 1010), { state: "open", openUntil: 3010, opens: 2, transition: "half_open→open" }],
      [acq(3000), { state: "open", granted: false }],
      [acq(3010), { state: "half_open", granted: true }],
      [rep(false, 3020), { state: "open", openUntil: 7020, opens: 3 }],
      [acq(7020), { state: "half_open", granted: true }],
      [rep(false, 7030), { state: "open", openUntil: 11030, opens: 4 }],
    ],
  },
  {
    name: "outcomes older than the window no longer count",
    steps: [
      [rec(2, 2, 0), { state: "closed", transition: undefined }],
      [rec(2, 2, 11_000), { state: "closed", transition: undefined }],
      [rec(2, 0, 11_500), { state: "open", transition: "closed→open" }],
    ],
  },
  {
    name: "below the threshold it stays closed",
    steps: [[rec(10, 4, 0), { state: "closed" }]],
  },
  {
    name: "forced open refuses calls to a healthy callee until cleared",
    steps: [
      [{ op: "force", forced: "open", at: 0 }, { state: "closed" }],
      [acq(10), { state: "closed", granted: false }],
      [rec(10, 0, 20), { state: "closed" }],
      [{ op: "force", forced: null, at: 30 }, { state: "closed" }],
      [acq(40), { state: "closed", granted: true }],
    ],
  },
  {
    name: "forced closed ignores failures; disabled too",
    steps: [
      [{ op: "force", forced: "closed", at: 0 }, { state: "closed" }],
      [rec(10, 10, 10), { state: "closed" }],
      [acq(20), { state: "closed", granted: true }],
      [{ op: "force", forced: "disabled", at: 30 }, { state: "closed" }],
      [rec(10, 10, 40), { state: "closed" }],
    ],
  },
  {
    name: "a forced state with an expiry ends by itself",
    steps: [
      [{ op: "force", forced: "open", until: 500, at: 0 }, { state: "closed" }],
      [acq(100), { state: "closed", granted: false }],
      [acq(600), { state: "closed", granted: true }],
    ],
  },
  {
    name: "reset starts it closed and fresh",
    steps: [
      [rec(4, 4, 0), { state: "open", opens: 1 }],
      [
        { op: "reset", at: 10 },
        { state: "closed", opens: 0 },
      ],
      [acq(20), { state: "closed", granted: true }],
      [rec(3, 3, 30), { state: "closed" }],
    ],
  },
];

interface Engine {
  apply(op: Op): Promise<{ snapshot: BreakerSnapshot; granted?: boolean; transition?: string }>;
}

function machineEngine(config: BreakerConfig): Engine {
  let snapshot = initialSnapshot();
  let window: WindowCounts = {};
  return {
    async apply(op) {
      let granted: boolean | undefined;
      let moved: { from: string; to: string } | undefined;
      if (op.op === "record") {
        const s = recordOutcomes(snapshot, window, config, {
          calls: op.calls,
          failures: op.failures,
          now: op.at,
        });
        ({ snapshot, window } = s);
        moved = s.transition;
      } else if (op.op === "acquire") {
        const s = acquireTrial(snapshot, window, config, op.at);
        ({ snapshot, window, granted } = s);
        moved = s.transition;
      } else if (op.op === "report") {
        const s = reportTrial(snapshot, window, config, { ok: op.ok, now: op.at });
        ({ snapshot, window } = s);
        moved = s.transition;
      } else if (op.op === "force") snapshot = force(snapshot, op.forced, op.at, op.until ?? 0);
      else ({ snapshot, window } = reset(snapshot, op.at));
      return {
        snapshot,
        ...(granted !== undefined ? { granted } : {}),
        ...(moved ? { transition: `${moved.from}→${moved.to}` } : {}),
      };
    },
  };
}

const redis = new Redis(testInfra().redisUrl);
afterAll(() => redis.disconnect());

function luaEngine(config: BreakerConfig): Engine {
  const store = createBreakerStore(redis, `${uniqueName("engines")}:`);
  const pair = "caller→callee";
  return {
    async apply(op) {
      const s =
        op.op === "record"
          ? await store.record(pair, config, { calls: op.calls, failures: op.failures, now: op.at })
          : op.op === "acquire"
            ? await store.acquireTrial(pair, config, op.at)
            : op.op === "report"
              ? await store.reportTrial(pair, config, op.ok, op.at)
              : op.op === "force"
                ? await store.force(pair, op.forced, op.at, op.until ?? 0)
                : await store.reset(pair, op.at);
      return {
        snapshot: s.snapshot,
        ...(op.op === "acquire" ? { granted: s.granted } : {}),
        ...(s.transition ? { transition: `${s.transition.from}→${s.transition.to}` } : {}),
      };
    },
  };
}

describe.each([
  ["the pure machine", machineEngine],
  ["the Lua scripts in Redis", luaEngine],
])("breaker rules: %s", (_name, makeEngine) => {
  it.each(SCENARIOS.map((s) => [s.name, s] as const))("%s", async (_title, scenario) => {
    const config = BreakerConfigSchema.parse({ ...CONFIG, ...scenario.config });
    const engine = makeEngine(config);
    for (const [index, [op, expected]] of scenario.steps.entries()) {
      const got = await engine.apply(op);
      const where = `step ${index + 1} (${op.op} at ${op.at})`;
      expect(got.snapshot.state, where).toBe(expected.state);
      if (expected.granted !== undefined) expect(got.granted, where).toBe(expected.granted);
      if (expected.openUntil !== undefined) expect(got.snapshot.openUntil, where).toBe(expected.openUntil);
      if (expected.opens !== undefined) expect(got.snapshot.opens, where).toBe(expected.opens);
      if ("transition" in expected) expect(got.transition, where).toBe(expected.transition);
    }
  });
});

describe("a caller's decision from its mirror", () => {
  it.each([
    ["closed", { state: "closed" }, 0, "pass"],
    ["open, before its time", { state: "open", openUntil: 1000 }, 999, "reject"],
    ["open, time up", { state: "open", openUntil: 1000 }, 1000, "trial"],
    ["half-open", { state: "half_open" }, 0, "trial"],
    ["forced open over closed", { state: "closed", forced: "open" }, 0, "reject"],
    ["forced closed over open", { state: "open", openUntil: 1000, forced: "closed" }, 0, "pass"],
    ["disabled", { state: "open", openUntil: 1000, forced: "disabled" }, 0, "pass"],
    ["an expired force", { state: "closed", forced: "open", forcedUntil: 10 }, 10, "pass"],
  ] as const)("%s", (_what, patch, now, expected) => {
    expect(decide({ ...initialSnapshot(), ...patch } as BreakerSnapshot, now)).toBe(expected);
  });
});
