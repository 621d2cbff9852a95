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
import type { Input } from '../inputs.ts';
import { type Reading, read } from '../routing/managed-rule.ts';
import type { RouteSnapshot } from '../routing/snapshot.ts';
import { freshStepAnalysis } from '../schedule.ts';
import { isTerminal, type RollbackCause, type RouteIntent, type RouteOperation } from '../state.ts';
import { primaryRoute } from '../targets.ts';
import { describeWeights, sameWeights, type Weights } from '../weights.ts';
import { block, onCheck } from './action-required.ts';
import { type Change, type Context, commit, managedRuleOf, newIntent, pause, unchanged } from './context.ts';
import { applyAgain, changeRoute, staleReason } from './route.ts';
import { confirmStepDown, stepDownEdited } from './step-down.ts';

type Found = Extract<Reading, { kind: 'found' }>;

/** A route observation as the core receives it (the input without its type and actor). */
export type Observed = Omit<Extract<Input, { type: 'routeObserved' }>, 'type' | 'actor'>;

/** Someone else's change to the rules that a write of ours overwrote: the latest, with the route before. */
interface Overwritten {
  readonly before: RouteSnapshot;
  readonly overwritten: RouteSnapshot;
  readonly operation: string;
}

/**
 * A write replaces all rules, so another writer's change to them that ended while the write was
 * in flight is gone — unless it was the same change. Found through the API's operations.
 */
function overwrittenBy(observed: Observed): Overwritten | null {
  const before = observed.before;
  if (!observed.written || before === undefined) return null;
  const rules = (s: RouteSnapshot) => JSON.stringify(s.rules);
  const lost = (observed.concurrent ?? []).filter(
    (w) => w.route !== null && rules(w.route) !== rules(before) && rules(w.route) !== rules(observed.route),
  );
  const last = lost.at(-1);
  return last?.route ? { before, overwritten: last.route, operation: last.operation } : null;
}

export function onRouteObserved(c: Context, observed: Observed): Decision {
  const lost = overwrittenBy(observed);
  return keepOverwritten(c, judge(c, observed, lost), observed.intent, lost);
}

function judge(c: Context, observed: Observed, lost: Overwritten | null): Decision {
  const stale = staleReason(c.r, observed.intent.id, 'route observation');
  const intent = c.r.intent;
  if (stale !== null || intent === null) {
    const landed = observed.written ? lateWrite(c, observed.intent, observed.route, lost) : null;
    return landed ?? unchanged(stale ?? 'no change');
  }
  const status = c.r.status;
  if (status.phase === 'ActionRequired') return onCheck(c, status, observed.route);
  const reading = read(observed.route, managedRuleOf(c.r));
  if (reading.kind !== 'found') {
    const problem =
      reading.kind === 'gone'
        ? ({ kind: 'ruleGone' } as const)
        : ({ kind: 'ruleAmbiguous', rules: reading.candidates } as const);
    return isTerminal(status.phase)
      ? leaveEdited(c, intent, 'the managed rule cannot be found')
      : block(c, problem, observed.route);
  }
  return intent.purpose === 'rollback'
    ? onRollbackRead(c, intent, reading, observed)
    : onShiftRead(c, intent, reading, observed);
}

/**
 * Whatever was decided, a change of someone else's that a write of ours overwrote is never
 * dropped: it rides on the decision's history entry, or gets one of its own.
 */
function keepOverwritten(
  c: Context,
  decision: Decision,
  by: RouteIntent,
  lost: Overwritten | null,
): Decision {
  if (lost === null) return decision;
  if (decision.kind === 'unchanged') return recordOverwritten(c, by, lost);
  if (decision.entry.route) return decision;
  const route = { before: lost.before, overwritten: lost.overwritten };
  return {
    ...decision,
    entry: { ...decision.entry, reason: `${decision.entry.reason}; ${describeOverwritten(lost)}`, route },
  };
}

function onShiftRead(c: Context, intent: RouteIntent, reading: Found, observed: Observed): Decision {
  if (reading.others.length > 0) {
    if (intent.overwrite) {
      const problem = { kind: 'foreignDestinations', rule: reading.index, backends: reading.others } as const;
      return block(c, problem, observed.route);
    }
    return drift(c, intent, `rule ${reading.index} also sends traffic to ${reading.others.join(', ')}`);
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
  );
}

function onRollbackRead(c: Context, intent: RouteIntent, reading: Found, observed: Observed): Decision {
  const canary = reading.weights?.canary ?? 0;
  if (canary > 0) {
    return applyAgain(c, intent, `rule ${reading.index} still sends the canary ${canary}%; rollback wins`);
  }
  if (reading.canaryElsewhere.length > 0) {
    return block(c, { kind: 'canaryElsewhere', rules: reading.canaryElsewhere }, observed.route);
  }
  return confirmOrSettle(c, intent, reading, observed, alreadyOut(intent, observed));
}

/**
 * The rollback found the canary already out of the route although the rollout had it live: taken
 * out while Firestore could not be reached (by an alert or an abort that named the route), or by
 * hand. Said when the rollback is recorded, so history tells what happened meanwhile.
 */
function alreadyOut(intent: RouteIntent, observed: Observed): string | null {
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
  const earlier = observed.pending.filter((op) => op.intentId !== intent.id);
  if (earlier.length === 0) return confirm(c, intent, reading, overwrittenBy(observed), note);
  // Committed (the lease renewed): cancelling is decided on the stored version, never a stale copy.
  const renewed: RouteIntent = { ...intent, leaseUntil: c.now + c.r.plan.timing.leaseMs };
  return commit(c, {
    event: 'rollout.weights_retrying',
    reason: `route shows ${describeWeights(intent.weights)}, but ${describeOperations(earlier)} may still land; cancelling or waiting for ${earlier.length > 1 ? 'them' : 'it'} before confirming`,
    intent: renewed,
    followUp: {
      kind: 'settleOperations',
      route: primaryRoute(c.r.spec),
      target: 0,
      intent: renewed,
      operations: earlier,
    },
  });
}

/** A write of an earlier change overwrote someone's edit: recorded (with the route) even so. */
function recordOverwritten(c: Context, by: RouteIntent, lost: Overwritten): Decision {
  return commit(c, {
    event: 'rollout.edit_overwritten',
    reason: `${describeOverwritten(lost)} (the write of change #${by.id}, ${describeWeights(by.weights)}); restore their change by hand`,
    route: { before: lost.before, overwritten: lost.overwritten },
  });
}

export function describeOperations(operations: readonly RouteOperation[]): string {
  const each = operations.map(
    (op) => `operation ${op.name} of change #${op.intentId} (${describeWeights(op.weights)})`,
  );
  return each.join(', ');
}

function drift(c: Context, intent: RouteIntent, detail: string): Decision {
  if (intent.overwrite) {
    const why = intent.purpose === 'rollback' ? 'rollback wins' : 'the operator asked to replace it';
    return applyAgain(c, intent, `route shows something else (${detail}); ${why}`);
  }
  if (isTerminal(c.r.status.phase)) return leaveEdited(c, intent, detail);
  const s = c.r.status;
  if (s.phase === 'Aborting') return stepDownEdited(c, s, detail);
  const step = s.phase === 'Progressing' || s.phase === 'Paused' ? s.step : c.r.plan.steps.length - 1;
  return pause(
    c,
    step,
    { kind: 'drift', detail },
    'applyStep',
    `route was edited outside the controller (${detail}); paused without overwriting it`,
    { intent: null },
  );
}

/** A terminal rollout putting right a late write found a person's edit instead: it stays. */
function leaveEdited(c: Context, intent: RouteIntent, detail: string): Decision {
  return commit(c, {
    event: 'rollout.route_edited',
    reason: `route was edited while the controller restored ${describeWeights(intent.weights)} (${detail}); left as it is`,
    intent: null,
  });
}

function confirm(
  c: Context,
  intent: RouteIntent,
  reading: Found,
  lost: Overwritten | null,
  found: string | null = null,
): Decision {
  const note = [found, lost === null ? null : describeOverwritten(lost)]
    .map((n) => (n === null ? '' : `; ${n}`))
    .join('');
  const confirmed: Change = {
    event: 'rollout.weights_live',
    reason: '',
    weights: intent.weights,
    intent: null,
    rule: { index: reading.index, shape: reading.shape },
    ...(lost === null ? {} : { route: { before: lost.before, overwritten: lost.overwritten } }),
  };
  switch (intent.purpose) {
    case 'step':
      if (lost !== null) return pauseOverwritten(c, intent, confirmed, lost);
      return commit(c, {
        ...confirmed,
        reason: `route confirmed at ${describeWeights(intent.weights)}`,
        stepStartedAt: c.now,
        analysis: freshStepAnalysis(c.r.analysis),
      });
    case 'stepDown':
      return confirmStepDown(c, intent, confirmed, note);
    case 'promote':
      return commit(c, {
        ...confirmed,
        event: 'rollout.succeeded',
        reason: `route confirmed with all traffic on the canary; rollout succeeded${note}`,
        status: { phase: 'Succeeded' },
      });
    case 'restore':
      return commit(c, {
        ...confirmed,
        event: 'rollout.weights_restored',
        reason: `route confirmed back at ${describeWeights(intent.weights)} after a late write of ${describeWeights(intent.previous)}${note}`,
      });
    case 'rollback':
      return confirmRollback(c, { ...confirmed, reason: note });
  }
}

function describeOverwritten(lost: Overwritten): string {
  return `a change someone else made to the route's rules (operation ${lost.operation}) ended while the controller's write was in flight and was overwritten by it; the route as they left it and as read before the write are kept in this history entry (route.overwritten, route.before)`;
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
    reason: `route confirmed with no rule sending the canary traffic; ${aborted ? 'aborted' : 'rolled back'}${confirmed.reason}`,
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
): Decision | null {
  const r = c.r;
  if (r.intent !== null || sameWeights(r.weights, landed.weights)) return null;
  const reading = read(route, managedRuleOf(r));
  if (reading.kind !== 'found' || reading.weights === null || !sameWeights(reading.weights, landed.weights))
    return null;
  const intent: RouteIntent = { ...newIntent(c, 'restore', r.weights, false), previous: landed.weights };
  return changeRoute(c, {
    event: 'rollout.weights_restoring',
    reason: `a late route write (${describeWeights(landed.weights)}) of change #${landed.id} landed after the rollout moved on; restoring ${describeWeights(r.weights)}${lost === null ? '' : `; ${describeOverwritten(lost)}`}`,
    intent,
    ...(lost === null ? {} : { route: { before: lost.before, overwritten: lost.overwritten } }),
  });
}
