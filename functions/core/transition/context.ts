/**
 * The one value every decision is made from — the rollout, the input's actor and type, and the
 * time — and the two ways a decision ends: `commit` (one new version, one history entry) or
 * `unchanged` (the reason). Both carry at most one follow-up.
 */

import type { Caller } from '../caller.ts';
import { type Decision, type FollowUp, NO_FOLLOW_UP } from '../decision.ts';
import type { HookState } from '../hook-state.ts';
import type { HookResult } from '../hooks.ts';
import type { Input } from '../inputs.ts';
import type { ManagedRule } from '../routing/managed-rule.ts';
import { computeNextActionAt } from '../schedule.ts';
import {
  type DeadlineRecord,
  type EventType,
  type HistoryEntry,
  type PauseReason,
  type ResumeMode,
  type Rollout,
  type RouteIntent,
  type Status,
  snapshot,
} from '../state.ts';
import type { Weights } from '../weights.ts';
import { withNotify } from './hook-notify.ts';
import { currentTarget, managedRuleAt, routeAt, withRuleHint } from './release.ts';

export interface Context {
  readonly r: Rollout;
  readonly now: number;
  readonly actor: string;
  readonly input: Input['type'];
  /** Who asked, when a person or publisher did (copied into the history entry). */
  readonly caller?: Caller;
}

export function contextOf(r: Rollout, input: Input, now: number): Context {
  return { r, now, actor: input.actor, input: input.type, ...(input.caller ? { caller: input.caller } : {}) };
}

/** What a change sets; anything left out stays as it is. */
export interface Change {
  readonly event: EventType;
  readonly reason: string;
  readonly status?: Status;
  readonly weights?: Weights;
  readonly intent?: RouteIntent | null;
  readonly analysis?: Rollout['analysis'];
  readonly stepStartedAt?: number | null;
  readonly driver?: Rollout['driver'];
  readonly lastAlert?: Rollout['lastAlert'];
  /** What the progress deadlines reported (transition/deadlines.ts). */
  readonly deadlines?: DeadlineRecord;
  /** Where the managed rule was found on the read this change is based on (`target`: whose; absent: the first). */
  readonly rule?: { readonly index: number; readonly shape: string; readonly target?: number };
  /** Someone else's change a write overwrote, kept so it can be restored. */
  readonly route?: HistoryEntry['route'];
  readonly verdict?: HistoryEntry['verdict'];
  readonly followUp?: FollowUp;
  /** Hook results this change records, and where the hook calls stand after it. */
  readonly hooks?: readonly HookResult[];
  readonly hookState?: HookState;
}

export function unchanged(reason: string, followUp: FollowUp = NO_FOLLOW_UP): Decision {
  return { kind: 'unchanged', reason, followUp };
}

export function commit(c: Context, change: Change): Decision {
  const r = c.r;
  const draft: Rollout = {
    ...r,
    status: change.status ?? r.status,
    weights: change.weights ?? r.weights,
    intent: change.intent === undefined ? r.intent : change.intent,
    analysis: change.analysis ?? r.analysis,
    stepStartedAt: change.stepStartedAt === undefined ? r.stepStartedAt : change.stepStartedAt,
    driver: change.driver ?? r.driver,
    lastAlert: change.lastAlert === undefined ? r.lastAlert : change.lastAlert,
    ...(change.rule === undefined
      ? { ruleIndex: r.ruleIndex, ruleShape: r.ruleShape ?? null }
      : withRuleHint(r, change.rule.target ?? 0, { index: change.rule.index, shape: change.rule.shape })),
    ...(change.hookState === undefined ? {} : { hookState: change.hookState }),
    ...(change.deadlines === undefined ? {} : { deadlines: change.deadlines }),
    version: r.version + 1,
    updatedAt: c.now,
  };
  const next: Rollout = { ...draft, nextActionAt: computeNextActionAt(draft) };
  const entry: HistoryEntry = {
    version: next.version,
    at: c.now,
    event: change.event,
    actor: c.actor,
    input: c.input,
    reason: change.reason,
    from: snapshot(r),
    to: snapshot(next),
    intent:
      next.intent && next.intent !== r.intent
        ? { purpose: next.intent.purpose, weights: next.intent.weights }
        : null,
    verdict: change.verdict ?? null,
    ...(change.route ? { route: change.route } : {}),
    ...(change.hooks ? { hooks: change.hooks } : {}),
    ...(c.caller ? { caller: c.caller } : {}),
  };
  return withNotify(r, { kind: 'changed', rollout: next, entry, followUp: change.followUp ?? NO_FOLLOW_UP });
}

/** The rule a rollout shifts on target `target` (default: the first), as found on every read of its route. */
export function managedRuleOf(r: Rollout, target = 0): ManagedRule {
  return managedRuleAt(r, target);
}

/** A route change recorded before it is made; its id is the version that records it. */
export function newIntent(
  c: Context,
  purpose: RouteIntent['purpose'],
  weights: Weights,
  overwrite = purpose === 'rollback',
): RouteIntent {
  return {
    id: c.r.version + 1,
    purpose,
    weights,
    previous: c.r.weights,
    leaseUntil: c.now + c.r.plan.timing.leaseMs,
    attempts: 1,
    lastError: null,
    overwrite,
  };
}

/** Every pause goes through here: the step it holds, why, and what `resume` will do. */
export function pause(
  c: Context,
  step: number,
  reason: PauseReason,
  resume: ResumeMode,
  why: string,
  extra: Omit<Change, 'event' | 'reason' | 'status'> = {},
): Decision {
  return commit(c, {
    ...extra,
    event: 'rollout.paused',
    reason: why,
    status: { phase: 'Paused', step, reason, resume, since: c.now },
  });
}

/**
 * Reads the route for the intent (taking it over, or checking whether a person changed it): the
 * first target the intent has not confirmed yet.
 */
export function readFollowUp(r: Rollout, intent: RouteIntent): FollowUp {
  const target = currentTarget(r, intent);
  return { kind: 'readRoute', route: routeAt(r, target), target, intent };
}
