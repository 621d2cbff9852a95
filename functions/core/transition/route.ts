/**
 * Route writes: every route change is an intent recorded before it is written, written only over
 * what the rollout last confirmed (rollback wins over anything), retried with backoff, and taken
 * over by the next driver when its lease runs out. What a read or write shows is judged in
 * observe.ts.
 */
import type { Decision, FollowUp } from '../decision.ts';
import type { RouteErrorKind } from '../inputs.ts';
import type { WriteRequest } from '../routing/write-plan.ts';
import { isTerminal, type RollbackCause, type Rollout, type RouteIntent } from '../state.ts';
import { targetsOf } from '../targets.ts';
import { ALL_STABLE, describeWeights } from '../weights.ts';
import { block } from './action-required.ts';
import {
  type Change,
  type Context,
  commit,
  managedRuleOf,
  newIntent,
  readFollowUp,
  unchanged,
} from './context.ts';
import { currentTarget, named, routeAt } from './release.ts';
import { firstFollowUp } from './route-check.ts';

/** Rollbacks and restores are retried until the route is safe; forward changes give up after a limit. */
export function mustFinish(intent: RouteIntent): boolean {
  return intent.purpose === 'rollback' || intent.purpose === 'restore';
}

/**
 * The write an intent asks for: over what it replaces, unless it overwrites whatever is there —
 * on the first target the intent has not confirmed yet (targets are written in order).
 */
export function writeFollowUp(r: Rollout, intent: RouteIntent): FollowUp {
  const target = currentTarget(r, intent);
  const route = routeAt(r, target);
  const rule = managedRuleOf(r, target);
  switch (intent.purpose) {
    case 'restore':
      return {
        kind: 'restoreRoute',
        route,
        target,
        intent,
        request: { target: rule, weights: intent.weights, mode: 'shift', precondition: intent.previous },
      };
    case 'rollback':
      return {
        kind: 'applyRoute',
        route,
        target,
        intent,
        request: rollbackRequest(r, target),
        ...alongside(r, intent, target),
      };
    default:
      return {
        kind: 'applyRoute',
        route,
        target,
        intent,
        request: {
          target: rule,
          weights: intent.weights,
          mode: 'shift',
          precondition: intent.overwrite ? null : intent.previous,
        },
      };
  }
}

function rollbackRequest(r: Rollout, target: number): WriteRequest {
  return { target: managedRuleOf(r, target), weights: ALL_STABLE, mode: 'rollback', precondition: null };
}

/** A rollback writes every target still to be confirmed at once (decision.ts `alongside`). */
function alongside(
  r: Rollout,
  intent: RouteIntent,
  current: number,
): Pick<FollowUp & { kind: 'applyRoute' }, 'alongside'> {
  const done = intent.done ?? [];
  const later = targetsOf(r.spec).flatMap((t, i) =>
    i > current && !done.includes(i) ? [{ route: t.route, target: i, request: rollbackRequest(r, i) }] : [],
  );
  return later.length === 0 ? {} : { alongside: later };
}

/** Records a route change (the intent) and asks for it to be written. */
export function changeRoute(c: Context, change: Change & { readonly intent: RouteIntent }): Decision {
  return commit(c, { ...change, followUp: firstFollowUp(c, change.intent) });
}

export function rollBack(
  c: Context,
  cause: RollbackCause,
  reason: string,
  extra: Pick<Change, 'verdict' | 'analysis' | 'lastAlert' | 'hooks' | 'hookState'> = {},
): Decision {
  return changeRoute(c, {
    ...extra,
    event: 'rollout.rolling_back',
    reason,
    status: { phase: 'RollingBack', cause },
    intent: newIntent(c, 'rollback', ALL_STABLE),
  });
}

/** An intent is owned by its driver until the lease ends; then the next driver reads the route. */
export function intentDue(c: Context, intent: RouteIntent): Decision {
  if (c.now < intent.leaseUntil) {
    return unchanged(
      `route change #${intent.id} to ${describeWeights(intent.weights)} is in progress until ${new Date(intent.leaseUntil).toISOString()}`,
    );
  }
  const renewed: RouteIntent = { ...intent, leaseUntil: c.now + c.r.plan.timing.leaseMs };
  return commit(c, {
    event: 'rollout.weights_retrying',
    reason: `taking over route change #${intent.id} (${describeWeights(intent.weights)}) after its lease ran out${
      intent.lastError ? ` (last error: ${intent.lastError})` : ''
    }; reading the route${named(c.r, currentTarget(c.r, intent))}`,
    intent: renewed,
    followUp: readFollowUp(c.r, renewed),
  });
}

export function applyAgain(c: Context, intent: RouteIntent, why: string): Decision {
  const attempts = intent.attempts + 1;
  if (!mustFinish(intent) && attempts > c.r.plan.timing.maxRouteAttempts) {
    const message = `gave up on ${describeWeights(intent.weights)} after ${intent.attempts} attempts${
      intent.lastError ? `: ${intent.lastError}` : ''
    }`;
    return rollBack(c, { kind: 'routeError', message }, `${message}; rolling back`);
  }
  return changeRoute(c, {
    event: 'rollout.weights_retrying',
    reason: `${why}; applying ${describeWeights(intent.weights)} again (attempt ${attempts})`,
    intent: { ...intent, attempts, leaseUntil: c.now + c.r.plan.timing.leaseMs },
  });
}

export function staleReason(r: Rollout, intentId: number, what: string): string | null {
  const current = r.intent;
  if (current !== null && current.id === intentId) return null;
  return `${what} for change #${intentId} is stale (current change: ${current ? `#${current.id}` : 'none'})`;
}

function backoffMs(r: Rollout, attempts: number): number {
  const { retryBaseMs, retryMaxMs } = r.plan.timing;
  return Math.min(retryMaxMs, retryBaseMs * 2 ** Math.max(0, attempts - 1));
}

export function onRouteFailed(
  c: Context,
  intentId: number,
  error: { readonly kind: RouteErrorKind; readonly message: string },
  target = 0,
): Decision {
  const stale = staleReason(c.r, intentId, 'route error');
  const intent = c.r.intent;
  if (stale !== null || intent === null) return unchanged(stale ?? 'no change');
  const at = currentTarget(c.r, intent);
  if (target !== at) {
    return unchanged(
      `route error on${named(c.r, target)} is stale: change #${intent.id} is at${named(c.r, at)} now`,
    );
  }
  const failure = `${error.kind}: ${error.message}${named(c.r, at) === '' ? '' : ` (route${named(c.r, at)})`}`;
  if (c.r.status.phase === 'ActionRequired') return unchanged(`still waiting for a person; ${failure}`);
  if (error.kind === 'notFound') return routeGone(c, intent, error.message, at);
  const retryable = error.kind === 'transient' || error.kind === 'conflict';
  if (!retryable && mustFinish(intent) && !isTerminal(c.r.status.phase)) {
    // Retrying a refusal cannot help: say once that a person must act, instead of retrying forever.
    return block(c, { kind: 'refused', message: failure }, null, at);
  }
  if (!mustFinish(intent)) {
    if (!retryable) {
      return rollBack(
        c,
        { kind: 'routeError', message: failure },
        `route change refused (${failure}); rolling back`,
      );
    }
    if (intent.attempts >= c.r.plan.timing.maxRouteAttempts) {
      return applyAgain(c, { ...intent, lastError: failure }, 'route change failed');
    }
  }
  const wait = backoffMs(c.r, intent.attempts);
  return commit(c, {
    event: 'rollout.weights_retrying',
    reason: `route change #${intent.id} failed (${failure}); trying again in ${Math.round(wait / 1000)}s`,
    intent: { ...intent, leaseUntil: c.now + wait, lastError: failure },
  });
}

function routeGone(c: Context, intent: RouteIntent, message: string, at: number): Decision {
  const route = named(c.r, at);
  if (isTerminal(c.r.status.phase)) {
    return commit(c, {
      event: 'rollout.route_edited',
      reason: `route${route} not found (${message}) while restoring ${describeWeights(intent.weights)}; nothing left to restore`,
      intent: null,
    });
  }
  return commit(c, {
    event: 'rollout.failed',
    reason: `route${route} not found (${message}); nothing left to shift or restore`,
    status: { phase: 'Failed', error: `route${route} not found: ${message}` },
    intent: null,
  });
}
