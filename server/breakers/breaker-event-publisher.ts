// Publishes what the breakers of one process report (state changes they performed, stats
// windows) as contract events on the breaker events topic, keyed by pair. A publish that
// fails is logged, never thrown at the caller: the breaker's job is to protect calls.
import type { Producer } from "kafkajs";
import { type BreakerConfig, parsePairId } from "../../browser-safe/breaker-config.ts";
import { breakerEvent, encodeBreakerEvent } from "../events/index.ts";
import type { Logger } from "../log.ts";
import { callCounts } from "./breaker-call-stats.ts";
import { type BreakerSnapshot, effectiveForced, type Transition } from "./breaker-machine.ts";
import type { PairStats, TransitionNotice } from "./circuit-breaker.ts";

export function createBreakerEventPublisher(deps: {
  producer: Producer;
  topic: string;
  source: string;
  instance: string;
  log: Logger;
  /** Resolves once the producer is connected; events wait for it (a caller never does). */
  ready?: Promise<void>;
}) {
  const send = (event: ReturnType<typeof breakerEvent>) =>
    (deps.ready ?? Promise.resolve())
      .then(() => deps.producer.send({ topic: deps.topic, messages: [encodeBreakerEvent(event)] }))
      .then(() => undefined)
      .catch((error) => deps.log.warn("could not publish a breaker event", { type: event.type, error }));

  const pairFields = (pair: string) => {
    const p = parsePairId(pair);
    return {
      pair,
      caller: p?.caller ?? "?",
      callee: p?.callee ?? "?",
      ...(p?.operation ? { operation: p.operation } : {}),
    };
  };

  function stateChanged(
    pair: string,
    transition: Transition,
    snapshot: BreakerSnapshot,
    config: BreakerConfig,
  ) {
    return send(
      breakerEvent(
        "io.sagascope.breaker.state_changed",
        {
          ...pairFields(pair),
          instance: deps.instance,
          from: transition.from,
          to: transition.to,
          forced: effectiveForced(snapshot, transition.at),
          reason: transition.reason,
          calls: transition.calls,
          failures: transition.failures,
          failureRateThreshold: config.failureRate,
          minimumCalls: config.minimumCalls,
          ...(snapshot.state === "open" ? { openUntil: new Date(snapshot.openUntil).toISOString() } : {}),
        },
        { source: deps.source, time: new Date(transition.at) },
      ),
    );
  }

  return {
    stateChanged,
    onTransition: (n: TransitionNotice) => void stateChanged(n.pair, n.transition, n.snapshot, n.config),
    onStats: (s: PairStats) =>
      void send(
        breakerEvent(
          "io.sagascope.breaker.stats",
          {
            ...pairFields(s.pair),
            instance: s.instance,
            windowStart: s.from.toISOString(),
            windowEnd: s.to.toISOString(),
            state: s.state,
            forced: s.forced,
            ...callCounts(s),
            latencyMs: s.latencyMs,
          },
          { source: deps.source, time: s.to },
        ),
      ),
  };
}
