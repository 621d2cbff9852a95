/**
 * Lifecycle events published to `rollout-events`, one per change (see docs/events.md).
 */
import { stepPosition } from './describe.ts';
import { authoredStepCount } from './plan.ts';
import type { HistoryEntry, Rollout } from './state.ts';
import { primaryRoute, routesOf } from './targets.ts';

export const EVENT_SCHEMA_VERSION = 1;

/**
 * The stable id of the event a history entry produces: the same on every publish of it (after a
 * crash, by the outbox drain, on a redelivery), so consumers deduplicate by it.
 */
export function eventIdOf(rolloutId: string, version: number): string {
  return `${rolloutId}.v${version}`;
}

export interface LifecycleEvent {
  readonly schemaVersion: typeof EVENT_SCHEMA_VERSION;
  /** `<rolloutId>.v<version>`: stable across re-publishes (docs/events.md#delivery). */
  readonly eventId: string;
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
  /** Who asked for the change and how that is known (docs/security.md); absent for the controller's own. */
  readonly caller?: NonNullable<HistoryEntry['caller']>;
  /** On `rollout.created`: the request's `requestedBy`, as its publisher claimed it. */
  readonly requestedBy?: string;
}

/**
 * A lifecycle event waiting to be published: the store writes one in the same commit as the
 * history entry it reports (the outbox), and it is deleted once published.
 */
export interface OutboxEvent {
  readonly eventId: string;
  readonly rolloutId: string;
  readonly version: number;
  /** The history entry's time (ms since the epoch). */
  readonly createdAt: number;
  readonly event: LifecycleEvent;
  /** The Pub/Sub attributes to publish it with. */
  readonly attributes: Readonly<Record<string, string>>;
}

export function outboxEventOf(r: Rollout, entry: HistoryEntry): OutboxEvent {
  const event = toLifecycleEvent(r, entry);
  return {
    eventId: event.eventId,
    rolloutId: r.id,
    version: entry.version,
    createdAt: entry.at,
    event,
    attributes: { rolloutId: r.id, type: entry.event, phase: entry.to.phase, eventId: event.eventId },
  };
}

export function toLifecycleEvent(r: Rollout, entry: HistoryEntry): LifecycleEvent {
  return {
    schemaVersion: EVENT_SCHEMA_VERSION,
    eventId: eventIdOf(r.id, entry.version),
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
    ...(entry.caller ? { caller: entry.caller } : {}),
    ...(entry.requestedBy === undefined ? {} : { requestedBy: entry.requestedBy }),
  };
}

/** The `type` of the event published when a rollout request is refused (docs/events.md#rolloutrejected). */
export const REJECTED_EVENT_TYPE = 'rollout.rejected';

/** The stable id of the `rollout.rejected` event of a refused request (its Pub/Sub message id). */
export function rejectedEventIdOf(requestMessageId: string): string {
  return `rejected.${requestMessageId}`;
}

/**
 * Published to `rollout-events` once per refused rollout request (bad field, route not allowed or
 * not ready, id conflict, busy route …), so a publisher waiting on events learns why. No rollout
 * was created or changed: there is no version, phase or history entry. Attributes:
 * `type`, `eventId`, `rolloutId` (when known) and `requestMessageId`.
 */
export interface RejectedEvent {
  readonly schemaVersion: typeof EVENT_SCHEMA_VERSION;
  readonly type: typeof REJECTED_EVENT_TYPE;
  /** `rejected.<requestMessageId>`: the same on every publish for one request (docs/events.md#delivery). */
  readonly eventId: string;
  /** The request's rolloutId, or the id it would have had (from the message id); null when unreadable. */
  readonly rolloutId: string | null;
  /** The Pub/Sub message id of the refused request (what `rolloutctl start` printed). */
  readonly requestMessageId: string;
  readonly at: string;
  /** Who published the request, as far as the controller knows (`pubsub:<messageId>`). */
  readonly actor: string;
  /** The routes the request named, when it could be read that far (else empty). */
  readonly routes: readonly string[];
  /** One sentence, bounded in length: what was wrong. */
  readonly reason: string;
  readonly error: {
    /** INVALID_REQUEST, ROUTE_NOT_ALLOWED, ROUTE_NOT_READY, SPEC_CONFLICT, ROUTE_LOCKED, … */
    readonly code: string;
    readonly hint: string;
    /** Field-level problems for INVALID_REQUEST (field + rule), bounded in number. */
    readonly problems?: readonly { readonly field: string; readonly rule: string }[];
    /** How many problems were left out of `problems` (at most 20 are listed). */
    readonly moreProblems?: number;
  };
}
