/**
 * Route policy: every route change is an intent recorded before it is written, written only over
 * what the rollout last confirmed (rollback wins over anything), read back and confirmed. What
 * the route shows decides the next move: confirm, write again, pause for a person's edit, or put
 * back a late write of the controller's own that landed after the rollout moved on.
 */
import type { Decision, FollowUp } from '../decision.ts';
import type { RouteErrorKind } from '../inputs.ts';
import { classify, type RouteView } from '../route-view.ts';
import { isTerminal, type RollbackCause, type Rollout, type RouteIntent } from '../state.ts';
import { describeWeights, sameWeights } from '../weights.ts';
import { type Change, type Context, commit, newIntent, pause, targetOf, unchanged } from './context.ts';

/** Rollbacks and restores are retried until the route is safe; forward changes give up after a limit. */
function mustFinish(intent: RouteIntent): boolean {
  return intent.purpose === 'rollback' || intent.purpose === 'restore';
}

/** The write an intent asks for: over what it replaces, unless it overwrites whatever is there. */
export function writeFollowUp(r: Rollout, intent: RouteIntent): FollowUp {
  const target = targetOf(r);
  if (intent.purpose === 'restore') {
    return { kind: 'restoreRoute', target, intent, precondition: intent.previous };
  }
  return { kind: 'applyRoute', target, intent, precondition: intent.overwrite ? null : intent.previous };
}

/** Records a route change (the intent) and asks for it to be written. */
export function changeRoute(c: Context, change: Change & { readonly intent: RouteIntent }): Decision {
  return commit(c, { ...change, followUp: writeFollowUp(c.r, change.intent) });
}

export function rollBack(
  c: Context,
  cause: RollbackCause,
  reason: string,
  extra: Pick<Change, 'verdict' | 'analysis' | 'lastAlert'> = {},
): Decision {
  return changeRoute(c, {
    ...extra,
    event: 'rollout.rolling_back',
    reason,
    status: { phase: 'RollingBack', cause },
    intent: newIntent(c, 'rollback', { stable: 100, canary: 0 }),
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
    }; reading the route`,
    intent: renewed,
    followUp: { kind: 'readRoute', target: targetOf(c.r), intent: renewed },
  });
}

function staleReason(r: Rollout, intentId: number, what: string): string | null {
  const current = r.intent;
  if (current !== null && current.id === intentId) return null;
  return `${what} for change #${intentId} is stale (current change: ${current ? `#${current.id}` : 'none'})`;
}

export function onRouteObserved(
  c: Context,
  observed: { readonly intent: RouteIntent; readonly written: boolean; readonly route: RouteView },
): Decision {
  const stale = staleReason(c.r, observed.intent.id, 'route observation');
  const intent = c.r.intent;
  if (stale !== null || intent === null) return lateWrite(c, observed) ?? unchanged(stale ?? 'no change');
  const match = classify(observed.route, intent);
  switch (match.kind) {
    case 'matchesIntent':
      return confirm(c, intent);
    case 'matchesPrevious':
      return applyAgain(c, intent, `route still shows ${describeWeights(intent.previous)}`);
    case 'drifted':
      return onDrift(c, intent, match.detail);
  }
}

/**
 * A write this call made for an intent the rollout has moved past. If the rollout holds
 * confirmed weights and the route now shows the late write instead, put those weights back —
 * as a route change of its own, with history and an event: a late write never undoes a rollback.
 */
function lateWrite(
  c: Context,
  observed: { readonly intent: RouteIntent; readonly written: boolean; readonly route: RouteView },
): Decision | null {
  const r = c.r;
  const landed = observed.intent.weights;
  if (!observed.written || r.intent !== null || sameWeights(r.weights, landed)) return null;
  if (!sameWeights(observed.route.weights, landed)) return null;
  const intent: RouteIntent = { ...newIntent(c, 'restore', r.weights, false), previous: landed };
  return changeRoute(c, {
    event: 'rollout.weights_restoring',
    reason: `a late route write (${describeWeights(landed)}) of change #${observed.intent.id} landed after the rollout moved on; restoring ${describeWeights(r.weights)}`,
    intent,
  });
}

function onDrift(c: Context, intent: RouteIntent, detail: string): Decision {
  if (intent.overwrite) {
    const why = intent.purpose === 'rollback' ? 'rollback wins' : 'the operator asked to replace it';
    return applyAgain(c, intent, `route shows something else (${detail}); ${why}`);
  }
  if (isTerminal(c.r.status.phase)) {
    return commit(c, {
      event: 'rollout.route_edited',
      reason: `route was edited while the controller restored it (${detail}); left as it is`,
      intent: null,
    });
  }
  return pause(
    c,
    stepIndexForPause(c.r),
    { kind: 'drift', detail },
    'applyStep',
    `route was edited outside the controller (${detail}); paused without overwriting it`,
    { intent: null },
  );
}

/** Index of the step the rollout is on, for pausing during promotion or a restore. */
function stepIndexForPause(r: Rollout): number {
  const s = r.status;
  if (s.phase === 'Progressing' || s.phase === 'Paused') return s.step;
  return r.plan.steps.length - 1;
}

function confirm(c: Context, intent: RouteIntent): Decision {
  const confirmed = { weights: intent.weights, intent: null };
  switch (intent.purpose) {
    case 'step':
      return commit(c, {
        ...confirmed,
        event: 'rollout.weights_live',
        reason: `route confirmed at ${describeWeights(intent.weights)}`,
        stepStartedAt: c.now,
        analysis: { ...c.r.analysis, windowsJudged: 0, stepCanaryRequests: 0, inconclusiveStreak: 0 },
      });
    case 'promote':
      return commit(c, {
        ...confirmed,
        event: 'rollout.succeeded',
        reason: 'route confirmed with all traffic on the canary; rollout succeeded',
        status: { phase: 'Succeeded' },
      });
    case 'restore':
      return commit(c, {
        ...confirmed,
        event: 'rollout.weights_restored',
        reason: `route confirmed back at ${describeWeights(intent.weights)} after a late write of ${describeWeights(intent.previous)}`,
      });
    case 'rollback':
      return confirmRollback(c, confirmed);
  }
}

function confirmRollback(c: Context, confirmed: Pick<Change, 'weights' | 'intent'>): Decision {
  const s = c.r.status;
  const cause: RollbackCause =
    s.phase === 'RollingBack' ? s.cause : { kind: 'routeError', message: 'rollback outside RollingBack' };
  const aborted = cause.kind === 'abort';
  return commit(c, {
    ...confirmed,
    event: aborted ? 'rollout.aborted' : 'rollout.rolled_back',
    reason: `route confirmed with all traffic on stable; ${aborted ? 'aborted' : 'rolled back'}`,
    status: aborted
      ? { phase: 'Aborted', actor: cause.actor, note: cause.note }
      : { phase: 'RolledBack', cause },
  });
}

function applyAgain(c: Context, intent: RouteIntent, why: string): Decision {
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

function backoffMs(r: Rollout, attempts: number): number {
  const { retryBaseMs, retryMaxMs } = r.plan.timing;
  return Math.min(retryMaxMs, retryBaseMs * 2 ** Math.max(0, attempts - 1));
}

export function onRouteFailed(
  c: Context,
  intentId: number,
  error: { readonly kind: RouteErrorKind; readonly message: string },
): Decision {
  const stale = staleReason(c.r, intentId, 'route error');
  const intent = c.r.intent;
  if (stale !== null || intent === null) return unchanged(stale ?? 'no change');
  const failure = `${error.kind}: ${error.message}`;
  if (error.kind === 'notFound') return routeGone(c, intent, error.message);
  if (!mustFinish(intent)) {
    if (error.kind !== 'transient' && error.kind !== 'conflict') {
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

function routeGone(c: Context, intent: RouteIntent, message: string): Decision {
  if (isTerminal(c.r.status.phase)) {
    return commit(c, {
      event: 'rollout.route_edited',
      reason: `route not found (${message}) while restoring ${describeWeights(intent.weights)}; nothing left to restore`,
      intent: null,
    });
  }
  return commit(c, {
    event: 'rollout.failed',
    reason: `route not found (${message}); nothing left to shift or restore`,
    status: { phase: 'Failed', error: `route not found: ${message}` },
    intent: null,
  });
}
