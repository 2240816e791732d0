// The durable orchestrator's save, one statement, against the real Postgres: each of its four
// decisions writes what it says, and nothing else (the row, its owner and lease, the outbox).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scratchDatabase } from "../../../scripts/test/infra.ts";
import { createPool, type Pool } from "../../db/pool.ts";
import { newTrace, sagaEvent } from "../../events/index.ts";
import type { SagaState } from "../saga-machine.ts";
import { createSagaStore, type SagaStore } from "./saga-store.ts";

const SCHEMA = "save_drill";
let db: Awaited<ReturnType<typeof scratchDatabase>>;
let pool: Pool;
let store: SagaStore;

beforeAll(async () => {
  db = await scratchDatabase("saga_store");
  pool = createPool(db.url, 4);
  store = createSagaStore(pool, SCHEMA, { sagaEvents: "saga-events", control: "control" });
  await store.init();
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

let n = 0;
/** A saga created owned by `owner`, forward, with one outbox row (its start). */
async function created(owner = "me"): Promise<SagaState> {
  n += 1;
  const state = {
    sagaId: `save-${n}`,
    sagaType: "drill",
    phase: "forward",
    trace: newTrace(),
    input: {},
    completed: [],
  } as unknown as SagaState;
  await store.create(state, [event(state)], owner, 10_000);
  return state;
}

const event = (s: SagaState) =>
  sagaEvent(
    "io.sagascope.saga.started",
    {
      sagaId: s.sagaId,
      sagaType: "drill",
      mode: "orchestrated",
      steps: [{ name: "a", service: "x" }],
      input: {},
    },
    { source: "/drill", trace: s.trace },
  );

async function row(sagaId: string) {
  const r = await pool.query(
    `SELECT phase, owner, lease_until IS NOT NULL AS leased, state, next_run_at > now() AS later
     FROM ${SCHEMA}.saga_instance WHERE saga_id = $1`,
    [sagaId],
  );
  const outbox = await pool.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.outbox WHERE key = $1`, [sagaId]);
  return { ...r.rows[0], messages: outbox.rows[0].n as number };
}

const pauseInStore = (sagaId: string) =>
  pool.query(
    `UPDATE ${SCHEMA}.saga_instance SET state = jsonb_set(state, '{paused}', '{"by":"ops","since":1}') WHERE saga_id = $1`,
    [sagaId],
  );

const opts = { leaseMs: 10_000, delayMs: 0 };

describe("saga store: a save in one statement", () => {
  it("saved: the new state, kept owned, its events added", async () => {
    const s = await created();
    const next = { ...s, step: 1 } as SagaState;
    expect(await store.save("me", next, [event(s), event(s)], { ...opts, delayMs: 60_000 })).toBe("saved");
    const r = await row(s.sagaId);
    expect(r).toMatchObject({ phase: "forward", owner: "me", leased: true, later: true, messages: 3 });
    expect(r.state.step).toBe(1);
  });

  it("saved and finished: handed back (no owner, no lease)", async () => {
    const s = await created();
    expect(await store.save("me", { ...s, phase: "completed" }, [event(s)], opts)).toBe("saved");
    expect(await row(s.sagaId)).toMatchObject({
      phase: "completed",
      owner: null,
      leased: false,
      messages: 2,
    });
  });

  it("lost: another owner, or no such saga, writes nothing", async () => {
    const s = await created("other");
    expect(await store.save("me", { ...s, phase: "completed" }, [event(s)], opts)).toBe("lost");
    expect(await row(s.sagaId)).toMatchObject({ phase: "forward", owner: "other", messages: 1 });
    expect(await store.save("me", { ...s, sagaId: "nobody" }, [event(s)], opts)).toBe("lost");
    expect((await row("nobody")).messages).toBe(0);
  });

  it("paused before a move begins: nothing of the move is written; handed back paused", async () => {
    const s = await created();
    await pauseInStore(s.sagaId);
    const begun = { ...s, step: 7 } as SagaState;
    expect(await store.save("me", begun, [event(s)], { ...opts, beginning: true })).toBe("paused");
    const r = await row(s.sagaId);
    expect(r).toMatchObject({ phase: "paused", owner: null, leased: false, messages: 1 });
    expect(r.state.step).toBeUndefined();
    expect(r.state.paused).toEqual({ by: "ops", since: 1 });
  });

  it("paused while a move ran: its outcome is kept with the pause; handed back paused", async () => {
    const s = await created();
    await pauseInStore(s.sagaId);
    const done = { ...s, step: 8 } as SagaState;
    expect(await store.save("me", done, [event(s)], opts)).toBe("paused");
    const r = await row(s.sagaId);
    expect(r).toMatchObject({ phase: "paused", owner: null, leased: false, messages: 2 });
    expect(r.state).toMatchObject({ step: 8, paused: { by: "ops", since: 1 } });
  });

  it("a move that ends a paused saga ends the pause: saved as finished", async () => {
    const s = await created();
    await pauseInStore(s.sagaId);
    expect(await store.save("me", { ...s, phase: "compensated" }, [event(s)], opts)).toBe("saved");
    const r = await row(s.sagaId);
    expect(r).toMatchObject({ phase: "compensated", owner: null, messages: 2 });
    expect(r.state.paused).toBeUndefined();
  });
});
