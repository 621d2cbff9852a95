/**
 * Lifecycle events published to `rollout-events`, one per change (see docs/events.md).
 */
import { stepPosition } from './describe.ts';
import { authoredStepCount } from './plan.ts';
import type { HistoryEntry, Rollout } from './state.ts';
import { primaryRoute, routesOf } from './targets.ts';

export const EVENT_SCHEMA_VERSION = 1;

export interface LifecycleEvent {
  readonly schemaVersion: typeof EVENT_SCHEMA_VERSION;
  readonly type: HistoryEntry['event'];
  readonly rolloutId: string;
  readonly version: number;
  readonly at: string;
  readonly actor: string;
  readonly reason: string;
  /** The release's first route (its name in queues and logs). */
  readonly route: string;
  /** Every route the release moves, in the order they are written (one for a `route` request). */
  readonly routes: readonly string[];
  readonly stable: string;
  readonly canary: string;
  readonly phase: HistoryEntry['to']['phase'];
  readonly previousPhase: HistoryEntry['from']['phase'];
  /** 1-based step number among the authored steps, or null outside a step. */
  readonly step: number | null;
  readonly totalSteps: number;
  readonly weights: HistoryEntry['to']['weights'];
  readonly intent: HistoryEntry['intent'];
  readonly verdict: HistoryEntry['verdict'];
  /** The hook results the change records (docs/hooks.md); absent when it records none. */
  readonly hooks?: NonNullable<HistoryEntry['hooks']>;
}

export function toLifecycleEvent(r: Rollout, entry: HistoryEntry): LifecycleEvent {
  return {
    schemaVersion: EVENT_SCHEMA_VERSION,
    type: entry.event,
    rolloutId: r.id,
    version: entry.version,
    at: new Date(entry.at).toISOString(),
    actor: entry.actor,
    reason: entry.reason,
    route: primaryRoute(r.spec),
    routes: routesOf(r.spec),
    stable: r.spec.stable,
    canary: r.spec.canary,
    phase: entry.to.phase,
    previousPhase: entry.from.phase,
    step: entry.to.step === null ? null : stepPosition(r.plan, entry.to.step).number,
    totalSteps: authoredStepCount(r.plan),
    weights: entry.to.weights,
    intent: entry.intent,
    verdict: entry.verdict,
    ...(entry.hooks ? { hooks: entry.hooks } : {}),
  };
}
