/**
 * The `rollout.rejected` event (docs/events.md#rolloutrejected): what a refused rollout request
 * was and why, bounded in size whatever the request held, so a hostile or huge request cannot
 * make the event (or its attributes) too large to publish.
 */
import {
  EVENT_SCHEMA_VERSION,
  REJECTED_EVENT_TYPE,
  type RejectedEvent,
  rejectedEventIdOf,
} from './events.ts';
import { ROLLOUT_ID } from './validation.ts';

export const REJECTION_LIMITS = {
  reason: 1000,
  hint: 500,
  code: 64,
  problems: 20,
  field: 200,
  rule: 300,
  routes: 20,
  route: 300,
  messageId: 200,
} as const;

export interface Refusal {
  readonly requestMessageId: string;
  /** The request's rolloutId, or the id the controller derives from the message id; null when unreadable. */
  readonly rolloutId: string | null;
  readonly routes: readonly string[];
  readonly at: number;
  readonly code: string;
  readonly message: string;
  readonly hint: string;
  readonly problems?: readonly { readonly field: string; readonly rule: string }[];
}

/** What a request body says about itself, read without trusting it. */
export interface RequestFacts {
  /** The request's rolloutId: a valid id, `null` when it has one that is not, `undefined` when it has none. */
  readonly rolloutId: string | null | undefined;
  readonly routes: readonly string[];
}

/** `text` cut to `max` characters, marked with "…" when cut. */
export function bounded(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function rejectedEvent(refusal: Refusal): RejectedEvent {
  const problems = refusal.problems ?? [];
  const kept = problems.slice(0, REJECTION_LIMITS.problems).map((p) => ({
    field: bounded(p.field, REJECTION_LIMITS.field),
    rule: bounded(p.rule, REJECTION_LIMITS.rule),
  }));
  const messageId = bounded(refusal.requestMessageId, REJECTION_LIMITS.messageId);
  return {
    schemaVersion: EVENT_SCHEMA_VERSION,
    type: REJECTED_EVENT_TYPE,
    eventId: rejectedEventIdOf(messageId),
    rolloutId: refusal.rolloutId !== null && ROLLOUT_ID.test(refusal.rolloutId) ? refusal.rolloutId : null,
    requestMessageId: messageId,
    at: new Date(refusal.at).toISOString(),
    actor: `pubsub:${messageId}`,
    routes: refusal.routes.slice(0, REJECTION_LIMITS.routes).map((r) => bounded(r, REJECTION_LIMITS.route)),
    reason: bounded(refusal.message, REJECTION_LIMITS.reason),
    error: {
      code: bounded(refusal.code, REJECTION_LIMITS.code),
      hint: bounded(refusal.hint, REJECTION_LIMITS.hint),
      ...(kept.length === 0 ? {} : { problems: kept }),
      ...(problems.length > kept.length ? { moreProblems: problems.length - kept.length } : {}),
    },
  };
}

/** Attributes for subscription filters: `type`, `eventId`, `requestMessageId`, and `rolloutId` when known. */
export function rejectedAttributes(event: RejectedEvent): Record<string, string> {
  return {
    type: event.type,
    eventId: event.eventId,
    requestMessageId: event.requestMessageId,
    ...(event.rolloutId === null ? {} : { rolloutId: event.rolloutId }),
  };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The rolloutId and routes a (possibly invalid) request body names, read defensively. */
export function requestFacts(body: unknown): RequestFacts {
  if (!isObject(body)) return { rolloutId: null, routes: [] };
  const id = body['rolloutId'];
  const rolloutId = id === undefined ? undefined : typeof id === 'string' && ROLLOUT_ID.test(id) ? id : null;
  const targets = Array.isArray(body['targets']) ? body['targets'] : [];
  const named = [
    body['route'],
    ...targets.slice(0, REJECTION_LIMITS.routes).map((t) => (isObject(t) ? t['route'] : undefined)),
  ];
  const routes = named.filter((r): r is string => typeof r === 'string' && r !== '');
  return { rolloutId, routes: routes.slice(0, REJECTION_LIMITS.routes) };
}
