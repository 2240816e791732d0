// Works through bulk operations in the background (run by the ingester). A round claims the
// running operation worked on least recently that no other runner holds (a lease, so several
// ingesters never send one saga's command twice and a dead one's operation is taken over),
// and handles up to one second's worth of its sagas, paced at its rate: a slice of them at a
// time (one saga at 100 a second and below, up to 32 at once at the highest rates), so a
// high rate is not bounded by one saga's round trips. Each saga is judged as it stands now:
// skipped with the reason, or acted on by actOnSaga as a single saga is (audited; its
// idempotency key makes a re-run after a crash send nothing twice). A suspend or cancel is
// seen after the slice in hand.
import type { Producer } from "kafkajs";
import { type Actor, can, type Role } from "../../browser-safe/roles.ts";
import type { Pool } from "../db/pool.ts";
import type { ControlAction } from "../events/index.ts";
import type { Logger } from "../log.ts";
import { sagaActionsAllowed } from "../saga-rules/saga-allowance.ts";
import {
  declaredControls,
  type OperationAction,
  TARGET_COLUMNS,
  type TargetFacts,
} from "./bulk-operations.ts";
import { coalescedSender, type Sender } from "./coalesced-sender.ts";
import { actOnSaga } from "./saga-actions.ts";

export interface RunnerDeps {
  pool: Pool;
  producer: () => Promise<Producer>;
  topicPrefix: string;
  log: Logger;
  /** Who holds a lease: this process, by name. */
  owner: string;
  /** How long a claimed operation is this runner's alone (claimed again each round). */
  leaseMs?: number;
  /** Sagas acted on at once; by default from the operation's rate (sliceAt). */
  slice?: number;
  /** Waits between two slices (pacing); replaceable in tests. */
  sleep?: (ms: number) => Promise<void>;
}

interface Claimed {
  id: string;
  action: OperationAction;
  reason: string;
  startedById: string;
  startedBy: string;
  startedByVia: "session" | "demo";
  rate: number;
}

type TargetOutcome = { state: "sent" | "skipped" | "failed"; message: string; actionId?: string };

const LEASE_MS = 30_000;
/**
 * A round ends by this time even when its sagas are slower than its rate (about 3 ms each on
 * 2 cores), so it always finishes well inside its lease and no other runner takes over an
 * operation whose round is still going.
 */
const ROUND_MAX_MS = 5_000;
/** Slices are started at most this often: the pacing's grain. */
const SLICES_PER_SECOND = 100;
/** The most sagas of one operation acted on at once. */
export const MAX_SLICE = 32;

/** How many sagas are acted on at once, at a rate (a second's sagas in SLICES_PER_SECOND slices). */
export const sliceAt = (rate: number) =>
  Math.min(MAX_SLICE, Math.max(1, Math.ceil(rate / SLICES_PER_SECOND)));

async function claim(deps: RunnerDeps): Promise<Claimed | undefined> {
  const { rows } = await deps.pool.query<Claimed>(
    `UPDATE bulk_operation SET lease_owner = $1, lease_until = now() + $2 * interval '1 millisecond'
     WHERE id = (SELECT id FROM bulk_operation
                 WHERE state = 'running' AND (lease_until IS NULL OR lease_until < now() OR lease_owner = $1)
                 ORDER BY lease_until NULLS FIRST, created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
     RETURNING id, action, reason, started_by_id AS "startedById", started_by AS "startedBy",
       started_by_via AS "startedByVia", rate_per_second AS rate`,
    [deps.owner, deps.leaseMs ?? LEASE_MS],
  );
  return rows[0];
}

/** The starter as they are now: a role change or a disabled account applies to their operation too. */
async function starterNow(db: Pool, op: Claimed): Promise<Actor | { stopped: string }> {
  if (op.startedByVia === "demo")
    return { id: op.startedById, email: op.startedBy, name: op.startedBy, role: "operator", via: "demo" };
  const { rows } = await db.query<{ name: string; role: Role; disabled: boolean }>(
    "SELECT name, role, disabled FROM app_user WHERE id = $1::bigint",
    [op.startedById],
  );
  const user = rows[0];
  if (!user || user.disabled) return { stopped: `its starter ${op.startedBy} is no longer an active user` };
  if (!can(user.role, "saga.act"))
    return { stopped: `its starter ${op.startedBy} may no longer act on sagas (now ${user.role})` };
  return { id: op.startedById, email: op.startedBy, name: user.name, role: user.role, via: "session" };
}

async function endOperation(db: Pool, id: string, state: "done" | "failed", message: string) {
  await db.query(
    `UPDATE bulk_operation SET state = $2, state_message = $3, state_changed_at = now(), ended_at = now(),
       lease_until = now() WHERE id = $1 AND state = 'running'`,
    [id, state, message],
  );
}

/** Records a slice's outcomes in one statement; answers the operation's state now (a suspend or cancel stops the round). */
async function record(
  db: Pool,
  op: string,
  outcomes: (TargetOutcome & { position: number })[],
): Promise<string> {
  const { rows } = await db.query<{ state: string }>(
    `WITH outcome AS (
       SELECT * FROM unnest($2::int[], $3::text[], $4::text[], $5::uuid[]) AS o(position, state, message, action_id)),
     handled AS (
       UPDATE bulk_operation_target t SET state = o.state, message = o.message, action_id = o.action_id,
         handled_at = now()
       FROM outcome o
       -- The slice's span of positions bounds the index scan: the pending index keeps the
       -- operation's handled rows until a vacuum, and a scan of them all costs milliseconds.
       WHERE t.operation_id = $1 AND t.position BETWEEN $6 AND $7 AND t.position = o.position
         AND t.state = 'pending'
       RETURNING t.state)
     UPDATE bulk_operation SET
       sent = sent + (SELECT count(*) FROM handled WHERE state = 'sent'),
       skipped = skipped + (SELECT count(*) FROM handled WHERE state = 'skipped'),
       failed = failed + (SELECT count(*) FROM handled WHERE state = 'failed')
     WHERE id = $1 RETURNING state`,
    [
      op,
      outcomes.map((o) => o.position),
      outcomes.map((o) => o.state),
      outcomes.map((o) => o.message),
      outcomes.map((o) => o.actionId ?? null),
      Math.min(...outcomes.map((o) => o.position)),
      Math.max(...outcomes.map((o) => o.position)),
    ],
  );
  return rows[0]?.state ?? "gone";
}

async function handleSaga(
  deps: RunnerDeps,
  sender: Sender,
  op: Claimed,
  actor: Actor,
  saga: TargetFacts | undefined,
  controls: ControlAction[] | undefined,
): Promise<TargetOutcome> {
  if (!saga) return { state: "skipped", message: "the saga is no longer stored" };
  const allowance = sagaActionsAllowed(saga, controls ? { controls } : {})[op.action];
  if (!allowance.allowed) return { state: "skipped", message: allowance.reason };
  try {
    const status = await actOnSaga(
      { pool: deps.pool, actor, producer: async () => sender, topicPrefix: deps.topicPrefix },
      {
        sagaId: saga.sagaId,
        action: op.action,
        reason: op.reason || undefined,
        idempotencyKey: `${op.id}:${saga.sagaId}`,
      },
      async () => ({ summary: saga, controls }),
      op.id,
    );
    const sent = status.phase === "pending" || status.phase === "done";
    return { state: sent ? "sent" : "failed", message: status.message, actionId: status.actionId };
  } catch (error) {
    return { state: "failed", message: error instanceof Error ? error.message : String(error) };
  }
}

/** One round: the number of sagas handled, or undefined when no operation was waiting. */
export async function runOperationRound(deps: RunnerDeps): Promise<number | undefined> {
  const op = await claim(deps);
  if (!op) return undefined;
  const sleep = deps.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  let handled = 0;
  try {
    const actor = await starterNow(deps.pool, op);
    if ("stopped" in actor) {
      await endOperation(deps.pool, op.id, "failed", `stopped: ${actor.stopped}`);
      deps.log.warn("bulk operation stopped", { operation: op.id, why: actor.stopped });
      return 0;
    }
    const { rows: targets } = await deps.pool.query<{ position: number; sagaId: string }>(
      `SELECT position, saga_id AS "sagaId" FROM bulk_operation_target
       WHERE operation_id = $1 AND state = 'pending' ORDER BY position LIMIT $2`,
      [op.id, op.rate],
    );
    if (targets.length === 0) {
      await endOperation(deps.pool, op.id, "done", "every saga handled");
      return 0;
    }
    const { rows: facts } = await deps.pool.query<TargetFacts>(
      `SELECT ${TARGET_COLUMNS} FROM saga_summary WHERE saga_id = ANY($1::text[])`,
      [targets.map((t) => t.sagaId)],
    );
    const bySaga = new Map(facts.map((f) => [f.sagaId, f]));
    const controls = await declaredControls(
      deps.pool,
      targets.map((t) => t.sagaId),
    );
    const began = Date.now();
    const gapMs = 1000 / op.rate;
    const slice = deps.slice ?? sliceAt(op.rate);
    // A slice's commands leave in a few requests, not one each.
    const sender = coalescedSender(await deps.producer());
    for (let i = 0; i < targets.length; i += slice) {
      const due = began + i * gapMs;
      if (due > Date.now()) await sleep(due - Date.now());
      const sliced = targets.slice(i, i + slice);
      const outcomes = await Promise.all(
        sliced.map(async (target) => ({
          position: target.position,
          ...(await handleSaga(
            deps,
            sender,
            op,
            actor,
            bySaga.get(target.sagaId),
            controls.get(target.sagaId),
          )),
        })),
      );
      handled += sliced.length;
      if ((await record(deps.pool, op.id, outcomes)) !== "running") break;
      if (Date.now() - began > ROUND_MAX_MS) break;
    }
    return handled;
  } finally {
    // Released, and last in line for the next round: several running operations take turns.
    await deps.pool.query(
      "UPDATE bulk_operation SET lease_until = now() WHERE id = $1 AND lease_owner = $2",
      [op.id, deps.owner],
    );
  }
}
