/**
 * What the route shows after a read or a write, judged for the rollout. The managed rule is found
 * by what it routes (routing/managed-rule.ts); then:
 *
 *   shift     the split is the intent's → confirm; still the previous one → write again;
 *             anything else, or a person's destination in the rule → a person's edit: pause
 *             (an overwriting intent writes again, but never removes a person's destination)
 *   rollback  the rule still sends the canary traffic → write again (rollback wins); it does not,
 *             but another rule does → a person must act; otherwise → confirm
 *
 * A write of this call's that landed after the rollout moved on is put back (lateWrite).
 */
import type { Decision } from '../decision.ts';
import { type Reading, read } from '../routing/managed-rule.ts';
import type { RouteSnapshot } from '../routing/snapshot.ts';
import { freshStepAnalysis } from '../schedule.ts';
import { isTerminal, type RollbackCause, type RouteIntent, type RouteOperation } from '../state.ts';
import { describeWeights, sameWeights, type Weights } from '../weights.ts';
import { block, onCheck } from './action-required.ts';
import { type Change, type Context, commit, managedRuleOf, newIntent, pause, unchanged } from './context.ts';
import {
  describeOverwritten,
  keepOverwritten,
  type Observed,
  type Overwritten,
  overwrittenBy,
  overwrittenRecord,
} from './overwritten.ts';
import {
  allBut,
  confirmedRoutes,
  currentTarget,
  named,
  othersRemain,
  routeAt,
  severalTargets,
} from './release.ts';
import { applyAgain, changeRoute, staleReason } from './route.ts';
import { confirmStepDown, stepDownEdited } from './step-down.ts';
import { confirmTarget } from './target-progress.ts';

type Found = Extract<Reading, { kind: 'found' }>;

export type { Observed } from './overwritten.ts';

export function onRouteObserved(c: Context, observed: Observed): Decision {
  const lost = overwrittenBy(observed);
  return keepOverwritten(c, judge(c, observed, lost), observed.intent, lost, observed.target ?? 0);
}

function judge(c: Context, observed: Observed, lost: Overwritten | null): Decision {
  const at = observed.target ?? 0;
  const stale = staleReason(c.r, observed.intent.id, 'route observation');
  const intent = c.r.intent;
  if (stale !== null || intent === null) {
    const landed = observed.written ? lateWrite(c, observed.intent, observed.route, lost, at) : null;
    return landed ?? unchanged(stale ?? 'no change');
  }
  const current = currentTarget(c.r, intent);
  if (at !== current) {
    return unchanged(
      `route observation of${named(c.r, at)} is stale: change #${intent.id} is at${named(c.r, current)} now`,
    );
  }
  const status = c.r.status;
  if (status.phase === 'ActionRequired') return onCheck(c, status, observed.route);
  const reading = read(observed.route, managedRuleOf(c.r, at));
  if (reading.kind !== 'found') {
    const problem =
      reading.kind === 'gone'
        ? ({ kind: 'ruleGone' } as const)
        : ({ kind: 'ruleAmbiguous', rules: reading.candidates } as const);
    return isTerminal(status.phase)
      ? leaveEdited(c, intent, 'the managed rule cannot be found', at)
      : block(c, problem, observed.route, at);
  }
  return intent.purpose === 'rollback'
    ? onRollbackRead(c, intent, reading, observed)
    : onShiftRead(c, intent, reading, observed);
}

function onShiftRead(c: Context, intent: RouteIntent, reading: Found, observed: Observed): Decision {
  const at = observed.target ?? 0;
  if (reading.others.length > 0) {
    if (intent.overwrite) {
      const problem = { kind: 'foreignDestinations', rule: reading.index, backends: reading.others } as const;
      return block(c, problem, observed.route, at);
    }
    return drift(c, intent, `rule ${reading.index} also sends traffic to ${reading.others.join(', ')}`, at);
  }
  const shown = reading.weights;
  if (shown !== null && sameWeights(shown, intent.weights))
    return confirmOrSettle(c, intent, reading, observed);
  if (shown !== null && sameWeights(shown, intent.previous)) {
    return applyAgain(c, intent, `route still shows ${describeWeights(intent.previous)}`);
  }
  return drift(
    c,
    intent,
    shown === null
      ? `rule ${reading.index} sends no traffic to stable or canary`
      : `route shows ${describeWeights(shown)}; expected ${describeWeights(intent.previous)} or ${describeWeights(intent.weights)}`,
    at,
  );
}

function onRollbackRead(c: Context, intent: RouteIntent, reading: Found, observed: Observed): Decision {
  const canary = reading.weights?.canary ?? 0;
  if (canary > 0) {
    return applyAgain(c, intent, `rule ${reading.index} still sends the canary ${canary}%; rollback wins`);
  }
  if (reading.canaryElsewhere.length > 0) {
    const problem = { kind: 'canaryElsewhere', rules: reading.canaryElsewhere } as const;
    return block(c, problem, observed.route, observed.target ?? 0);
  }
  return confirmOrSettle(c, intent, reading, observed, alreadyOut(intent, observed));
}

/**
 * The rollback found the canary already out of the route although the rollout had it live: taken
 * out while Firestore could not be reached (by an alert or an abort that named the route), or by
 * hand. Said when the rollback is recorded, so history tells what happened meanwhile.
 */
function alreadyOut(intent: RouteIntent, observed: Observed): string | null {
  // A later target of a release: the rollback's own write started alongside the first one's.
  if ((intent.done ?? []).length > 0) return null;
  if (observed.written || intent.attempts > 1 || intent.previous.canary === 0) return null;
  return `the route already sent the canary nothing when the rollback began (from ${describeWeights(intent.previous)}): it was taken out while the controller could not reach Firestore, or by hand`;
}

/**
 * The route shows what the intent wants. It is confirmed only once no operation of an earlier
 * change of ours may still land on it (one that timed out, or whose driver died): those are
 * cancelled or waited for first, and the route read again.
 */
function confirmOrSettle(
  c: Context,
  intent: RouteIntent,
  reading: Found,
  observed: Observed,
  note: string | null = null,
): Decision {
  const at = observed.target ?? 0;
  const route = routeAt(c.r, at);
  // Only operations on this target's route can still change what it shows.
  const earlier = observed.pending.filter((op) => op.intentId !== intent.id && op.route === route);
  if (earlier.length === 0) return confirm(c, intent, at, reading, overwrittenBy(observed), note);
  // Committed (the lease renewed): cancelling is decided on the stored version, never a stale copy.
  const renewed: RouteIntent = { ...intent, leaseUntil: c.now + c.r.plan.timing.leaseMs };
  return commit(c, {
    event: 'rollout.weights_retrying',
    reason: `route shows ${describeWeights(intent.weights)}, but ${describeOperations(earlier)} may still land; cancelling or waiting for ${earlier.length > 1 ? 'them' : 'it'} before confirming`,
    intent: renewed,
    followUp: {
      kind: 'settleOperations',
      route,
      target: at,
      intent: renewed,
      operations: earlier,
    },
  });
}

export function describeOperations(operations: readonly RouteOperation[]): string {
  const each = operations.map(
    (op) => `operation ${op.name} of change #${op.intentId} (${describeWeights(op.weights)})`,
  );
  return each.join(', ');
}

/**
 * A person's edit on target `at`: the whole release pauses and keeps it. In a release of several
 * routes, the routes this change already moved are named (they show the new weights).
 */
export function drift(c: Context, intent: RouteIntent, detail: string, at: number): Decision {
  if (intent.overwrite) {
    const why = intent.purpose === 'rollback' ? 'rollback wins' : 'the operator asked to replace it';
    return applyAgain(c, intent, `route${named(c.r, at)} shows something else (${detail}); ${why}`);
  }
  if (isTerminal(c.r.status.phase)) return leaveEdited(c, intent, detail, at);
  const s = c.r.status;
  const where = severalTargets(c.r) ? `route ${routeAt(c.r, at)}: ${detail}` : detail;
  if (s.phase === 'Aborting') return stepDownEdited(c, s, where);
  const step = s.phase === 'Progressing' || s.phase === 'Paused' ? s.step : c.r.plan.steps.length - 1;
  const moved = (intent.done ?? []).map((i) => routeAt(c.r, i));
  const already =
    moved.length === 0
      ? ''
      : `; route${moved.length > 1 ? 's' : ''} ${moved.join(', ')} already show${moved.length > 1 ? '' : 's'} ${describeWeights(intent.weights)} (left as ${moved.length > 1 ? 'they are' : 'it is'} until resumed)`;
  return pause(
    c,
    step,
    { kind: 'drift', detail: where },
    'applyStep',
    `route${named(c.r, at)} was edited outside the controller (${detail}); paused without overwriting it${already}`,
    { intent: null },
  );
}

/** A terminal rollout putting right a late write found a person's edit instead: it stays. */
function leaveEdited(c: Context, intent: RouteIntent, detail: string, at: number): Decision {
  return commit(c, {
    event: 'rollout.route_edited',
    reason: `route${named(c.r, at)} was edited while the controller restored ${describeWeights(intent.weights)} (${detail}); left as it is`,
    intent: null,
  });
}

/**
 * Target `at` shows what the intent wants. Targets remain: record the progress and write the
 * next (target-progress.ts). The last one: the change is live on every route.
 */
function confirm(
  c: Context,
  intent: RouteIntent,
  at: number,
  reading: Found,
  lost: Overwritten | null,
  found: string | null = null,
): Decision {
  const note = [found, lost === null ? null : describeOverwritten(lost)]
    .map((n) => (n === null ? '' : `; ${n}`))
    .join('');
  if (othersRemain(c.r, intent, at)) return confirmTarget(c, intent, at, reading, lost, note);
  const confirmed: Change = {
    event: 'rollout.weights_live',
    reason: '',
    weights: intent.weights,
    intent: null,
    rule: { index: reading.index, shape: reading.shape, target: at },
    ...(lost === null ? {} : { route: overwrittenRecord(c.r, lost, at) }),
  };
  const routes = confirmedRoutes(c.r);
  switch (intent.purpose) {
    case 'step':
      if (lost !== null) return pauseOverwritten(c, intent, confirmed, lost);
      return commit(c, {
        ...confirmed,
        reason: `${routes} confirmed at ${describeWeights(intent.weights)}`,
        stepStartedAt: c.now,
        analysis: freshStepAnalysis(c.r.analysis),
      });
    case 'stepDown':
      return confirmStepDown(c, intent, confirmed, note);
    case 'promote':
      return commit(c, {
        ...confirmed,
        event: 'rollout.succeeded',
        reason: `${routes} confirmed with all traffic on the canary; rollout succeeded${note}`,
        status: { phase: 'Succeeded' },
      });
    case 'restore':
      return commit(c, {
        ...confirmed,
        event: 'rollout.weights_restored',
        reason: `route${named(c.r, at)} confirmed back at ${describeWeights(intent.weights)} after a late write of ${describeWeights(intent.previous)}${note}`,
      });
    case 'rollback':
      return confirmRollback(c, { ...confirmed, reason: note });
  }
}

/** The step's weights are live, but a person's change was lost: say so and wait for them. */
function pauseOverwritten(c: Context, intent: RouteIntent, confirmed: Change, lost: Overwritten): Decision {
  const s = c.r.status;
  const step = s.phase === 'Progressing' || s.phase === 'Paused' ? s.step : 0;
  const detail = describeOverwritten(lost);
  return pause(
    c,
    step,
    { kind: 'drift', detail },
    'continue',
    `route at ${describeWeights(intent.weights)}, but ${detail}; paused: restore their change, then resume`,
    {
      ...confirmed,
      stepStartedAt: c.now,
      analysis: freshStepAnalysis(c.r.analysis),
    },
  );
}

function confirmRollback(c: Context, confirmed: Change): Decision {
  const s = c.r.status;
  const cause: RollbackCause =
    s.phase === 'RollingBack' ? s.cause : { kind: 'routeError', message: 'rollback outside RollingBack' };
  const aborted = cause.kind === 'abort';
  return commit(c, {
    ...confirmed,
    event: aborted ? 'rollout.aborted' : 'rollout.rolled_back',
    reason: `${confirmedRoutes(c.r)} confirmed with no rule sending the canary traffic; ${aborted ? 'aborted' : 'rolled back'}${confirmed.reason}`,
    status: aborted
      ? { phase: 'Aborted', actor: cause.actor, note: cause.note }
      : { phase: 'RolledBack', cause },
  });
}

/**
 * A write of ours (`landed`: the change and the split it wrote) landed after the rollout moved
 * on. If the rollout holds confirmed weights and the route now shows the late write instead, put
 * those weights back — as a route change of its own, with history and an event: a late write
 * never undoes a rollback.
 */
export function lateWrite(
  c: Context,
  landed: { readonly id: number; readonly weights: Weights } | RouteIntent,
  route: RouteSnapshot,
  lost: Overwritten | null = null,
  target = 0,
): Decision | null {
  const r = c.r;
  if (r.intent !== null || sameWeights(r.weights, landed.weights)) return null;
  const reading = read(route, managedRuleOf(r, target));
  if (reading.kind !== 'found' || reading.weights === null || !sameWeights(reading.weights, landed.weights))
    return null;
  // The restore writes only this target: every other one counts as done for it.
  const only = severalTargets(r) ? { done: allBut(r, target) } : {};
  const intent: RouteIntent = {
    ...newIntent(c, 'restore', r.weights, false),
    previous: landed.weights,
    ...only,
  };
  return changeRoute(c, {
    event: 'rollout.weights_restoring',
    reason: `a late route write (${describeWeights(landed.weights)}) of change #${landed.id} landed${severalTargets(r) ? ` on ${routeAt(r, target)}` : ''} after the rollout moved on; restoring ${describeWeights(r.weights)}${lost === null ? '' : `; ${describeOverwritten(lost)}`}`,
    intent,
    ...(lost === null ? {} : { route: overwrittenRecord(r, lost, target) }),
  });
}
