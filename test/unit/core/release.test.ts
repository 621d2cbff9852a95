/**
 * A release of several routes moves as one (docs/state.md, "Releases of several routes"): every
 * change is one intent written to the targets in order, live only once the last is confirmed;
 * a crash resumes at the first target not confirmed; an edit on any target pauses the release;
 * a failure on any target rolls every target back.
 */
import { describe, expect, it } from 'vitest';
import { checkSplit } from '../../../functions/core/analysis/split.ts';
import type { Decision } from '../../../functions/core/decision.ts';
import type { Input } from '../../../functions/core/inputs.ts';
import type { RouteSnapshot } from '../../../functions/core/routing/snapshot.ts';
import type { Rollout, RouteIntent, RouteOperation } from '../../../functions/core/state.ts';
import { transition } from '../../../functions/core/transition.ts';
import { ALL_CANARY, ALL_STABLE, type Weights } from '../../../functions/core/weights.ts';
import { changed, due, followUp, reasonOf, routeShowing } from '../../support/drive.ts';
import { grpcRouteName, newRelease, routeName, TIMING } from '../../support/fixtures.ts';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const A = routeName('checkout');
const B = grpcRouteName('checkout-grpc');
const STEP1 = { stable: 90, canary: 10 };

function release(steps = [{ weight: 10, hold: '2m' }]): Rollout {
  return newRelease('rel', [A, B], { steps }, T0).rollout;
}

function intentOf(r: Rollout): RouteIntent {
  if (r.intent === null) throw new Error('expected a route change in flight');
  return r.intent;
}

function entryOf(d: Decision): { event: string; reason: string } {
  if (d.kind !== 'changed') throw new Error(`expected a change, got unchanged: ${d.reason}`);
  return d.entry;
}

/** What a driver reports after writing (or reading) `target`'s route for the rollout's intent. */
function shown(r: Rollout, target: number, weights: Weights, written = true, extra = {}): Input {
  return {
    type: 'routeObserved',
    actor: 'workflow:e1',
    target,
    intent: intentOf(r),
    written,
    route: routeShowing(weights),
    pending: [],
    ...extra,
  };
}

/** What a driver reports after reading the later target before the change's first write. */
function checked(r: Rollout, weights: Weights): Input {
  return {
    type: 'routesChecked',
    actor: 'workflow:e1',
    intent: intentOf(r),
    routes: [{ target: 1, route: routeShowing(weights) }],
  };
}

/** Started, and the first target confirmed at the first step's weights. */
function firstConfirmed(): Rollout {
  const started = changed(transition(release(), { type: 'start', actor: 'workflow:e1' }, T0));
  return changed(transition(started, shown(started, 0, STEP1), T0));
}

/** Both targets live at the first step. */
function live(): Rollout {
  const r = firstConfirmed();
  return changed(transition(r, shown(r, 1, STEP1), T0));
}

describe('a release of several routes: one step', () => {
  it('reads the later targets, writes the first, then the second, and is live only once both are', () => {
    const started = transition(release(), { type: 'start', actor: 'workflow:e1' }, T0);
    expect(followUp(started, 'checkRoutes').targets).toEqual([{ route: B, target: 1 }]);
    const checkedOk = transition(changed(started), checked(changed(started), ALL_STABLE), T0);
    expect(checkedOk.kind).toBe('unchanged');
    expect(reasonOf(checkedOk)).toBe(
      `every other route of the release shows stable 100% / canary 0%; writing ${A}`,
    );
    const first = followUp(checkedOk, 'applyRoute');
    expect(first).toMatchObject({
      route: A,
      target: 0,
      request: { weights: STEP1, precondition: ALL_STABLE },
    });
    const r1 = changed(started);

    const progress = transition(r1, shown(r1, 0, STEP1), T0 + 1000);
    expect(entryOf(progress)).toMatchObject({
      event: 'rollout.weights_applying',
      reason: `route ${A} confirmed at stable 90% / canary 10% (1 of 2 targets); writing ${B}`,
    });
    const r2 = changed(progress);
    expect(r2).toMatchObject({
      weights: ALL_STABLE,
      stepStartedAt: null,
      intent: { done: [0], attempts: 1 },
    });
    expect(r2.ruleHints?.[0]).toEqual({ index: 0, shape: expect.any(String) });
    expect(followUp(progress, 'applyRoute')).toMatchObject({
      route: B,
      target: 1,
      request: { weights: STEP1, precondition: ALL_STABLE },
    });

    const done = transition(r2, shown(r2, 1, STEP1), T0 + 2000);
    expect(entryOf(done)).toMatchObject({
      event: 'rollout.weights_live',
      reason: 'all 2 routes confirmed at stable 90% / canary 10%',
    });
    expect(changed(done)).toMatchObject({ weights: STEP1, stepStartedAt: T0 + 2000, intent: null });
    expect(done.followUp.kind).toBe('none');
  });

  it('pauses before writing any route when a later route was edited, and keeps the edit', () => {
    const started = changed(transition(release(), { type: 'start', actor: 'workflow:e1' }, T0));
    const edited = transition(started, checked(started, { stable: 70, canary: 30 }), T0);
    expect(entryOf(edited).reason).toBe(
      `route ${B} was edited outside the controller (route shows stable 70% / canary 30%; expected stable 100% / canary 0%; found before any route of the release was written); paused without overwriting it`,
    );
    expect(changed(edited)).toMatchObject({
      status: { phase: 'Paused', reason: { kind: 'drift' }, resume: 'applyStep' },
      intent: null,
      weights: ALL_STABLE,
    });
    expect(edited.followUp.kind).toBe('none');
    const stale = transition(changed(edited), checked(started, ALL_STABLE), T0);
    expect(reasonOf(stale)).toMatch(/is stale/);
  });

  it('does not read the other routes first for a rollback or a retry', () => {
    const r = live();
    const aborting = transition(
      r,
      { type: 'control', command: 'abort', actor: 'operator:ann', note: 'no' },
      T0,
    );
    expect(aborting.followUp.kind).toBe('applyRoute');
  });

  it('ignores an observation of a target other than the one the change is at', () => {
    const started = changed(transition(release(), { type: 'start', actor: 'workflow:e1' }, T0));
    expect(reasonOf(transition(started, shown(started, 1, STEP1), T0))).toMatch(
      new RegExp(`route observation of ${B} is stale: change #2 is at ${A} now`),
    );
    const r = firstConfirmed();
    expect(reasonOf(transition(r, shown(r, 0, STEP1), T0))).toMatch(/is stale/);
  });

  it('promotes and rolls back every target, in order', () => {
    let r = live();
    const promoting = transition(
      r,
      { type: 'control', command: 'promote', actor: 'operator:ann', note: 'go' },
      T0,
    );
    r = changed(promoting);
    expect(followUp(promoting, 'checkRoutes').targets).toEqual([{ route: B, target: 1 }]);
    expect(followUp(transition(r, checked(r, STEP1), T0), 'applyRoute')).toMatchObject({
      route: A,
      request: { weights: ALL_CANARY },
    });
    const next = transition(r, shown(r, 0, ALL_CANARY), T0);
    expect(followUp(next, 'applyRoute')).toMatchObject({ route: B, target: 1 });
    r = changed(next);
    expect(r.status.phase).toBe('Promoting');
    r = changed(transition(r, shown(r, 1, ALL_CANARY), T0));
    expect(r.status.phase).toBe('Succeeded');

    let back = live();
    const aborting = transition(
      back,
      { type: 'control', command: 'abort', actor: 'operator:ann', note: 'no' },
      T0,
    );
    expect(followUp(aborting, 'applyRoute')).toMatchObject({ route: A, request: { mode: 'rollback' } });
    back = changed(aborting);
    const second = transition(back, shown(back, 0, ALL_STABLE), T0);
    expect(followUp(second, 'applyRoute')).toMatchObject({ route: B, request: { mode: 'rollback' } });
    back = changed(second);
    expect(back.status.phase).toBe('RollingBack');
    back = changed(transition(back, shown(back, 1, ALL_STABLE), T0));
    expect(back.status).toMatchObject({ phase: 'Aborted' });
  });
});

describe('a release of several routes: crash recovery', () => {
  it('a driver taking over after the first target was confirmed reads the second and writes it once', () => {
    const r = firstConfirmed();
    const late = T0 + TIMING.leaseMs + 1000;
    const takeover = transition(r, due('scheduler'), late);
    expect(followUp(takeover, 'readRoute')).toMatchObject({ route: B, target: 1 });
    expect(entryOf(takeover).reason).toMatch(new RegExp(`reading the route ${B}$`));
    const t = changed(takeover);
    const read = transition(t, shown(t, 1, ALL_STABLE, false), late);
    expect(followUp(read, 'applyRoute')).toMatchObject({ route: B, target: 1, request: { weights: STEP1 } });
  });

  it('a driver taking over after the second write landed confirms it without writing again', () => {
    const r = firstConfirmed();
    const late = T0 + TIMING.leaseMs + 1000;
    const t = changed(transition(r, due('scheduler'), late));
    const read = transition(t, shown(t, 1, STEP1, false), late);
    expect(read.followUp.kind).toBe('none');
    expect(changed(read)).toMatchObject({ weights: STEP1, intent: null, stepStartedAt: late });
  });
});

describe('a release of several routes: a person’s edit on one target', () => {
  it('pauses the whole release, keeps the edit, says which routes already moved; resume writes both', () => {
    const r = firstConfirmed();
    const edited = transition(r, shown(r, 1, { stable: 70, canary: 30 }), T0);
    expect(entryOf(edited).reason).toBe(
      `route ${B} was edited outside the controller (route shows stable 70% / canary 30%; expected stable 100% / canary 0% or stable 90% / canary 10%); paused without overwriting it; route ${A} already shows stable 90% / canary 10% (left as it is until resumed)`,
    );
    expect(edited.followUp.kind).toBe('none');
    const paused = changed(edited);
    expect(paused).toMatchObject({ weights: ALL_STABLE, intent: null });
    expect(paused.status).toMatchObject({ phase: 'Paused', resume: 'applyStep', reason: { kind: 'drift' } });
    expect(JSON.stringify(paused.status)).toContain(`route ${B}:`);

    const resumed = transition(
      paused,
      { type: 'control', command: 'resume', actor: 'operator:ann', note: 'ok' },
      T0,
    );
    expect(followUp(resumed, 'applyRoute')).toMatchObject({ route: A, request: { precondition: null } });
    let x = changed(resumed);
    // The first target already shows the step: confirmed without a write, then the second is overwritten.
    const onA = transition(x, shown(x, 0, STEP1, false), T0);
    expect(followUp(onA, 'applyRoute')).toMatchObject({
      route: B,
      request: { weights: STEP1, precondition: null },
    });
    x = changed(onA);
    x = changed(transition(x, shown(x, 1, STEP1), T0));
    expect(x).toMatchObject({ status: { phase: 'Progressing', step: 0 }, weights: STEP1, intent: null });
  });

  it('an edit found by the split check on the second target pauses; both are read in turn', () => {
    const r = live();
    const window = { index: 1, start: T0 + 60_000, end: T0 + 120_000 };
    const split = checkSplit({
      window,
      weights: STEP1,
      canary: { kind: 'data', requests: 20, errors: 0, latency: null },
      stable: { kind: 'data', requests: 980, errors: 0, latency: null },
    });
    if (split.kind !== 'notSeen') throw new Error('expected the split to be off');
    const settling = transition(
      r,
      { type: 'windowSettling', actor: 'workflow:e1', window, split },
      T0 + 140_000,
    );
    expect(followUp(settling, 'inspectRoute')).toEqual({ kind: 'inspectRoute', route: A, target: 0 });
    const s = changed(settling);
    const inspect = (target: number, weights: Weights): Decision =>
      transition(
        s,
        { type: 'routeInspected', actor: 'workflow:e1', route: routeShowing(weights), target },
        T0,
      );
    const onA = inspect(0, STEP1);
    expect(reasonOf(onA)).toBe(`route ${A} still shows stable 90% / canary 10%; reading ${B}`);
    expect(followUp(onA, 'inspectRoute')).toEqual({ kind: 'inspectRoute', route: B, target: 1 });
    expect(reasonOf(inspect(1, STEP1))).toMatch(/every route still shows stable 90% \/ canary 10%/);
    const onB = inspect(1, { stable: 50, canary: 50 });
    expect(changed(onB).status).toMatchObject({ phase: 'Paused', reason: { kind: 'drift' } });
    expect(entryOf(onB).reason).toMatch(new RegExp(`^route ${B} was edited outside the controller`));
  });
});

describe('a release of several routes: failures', () => {
  it('a refusal on the second target rolls every target back', () => {
    const r = firstConfirmed();
    const refused: Input = {
      type: 'routeFailed',
      actor: 'workflow:e1',
      target: 1,
      intentId: intentOf(r).id,
      error: { kind: 'permissionDenied', message: 'no networkservices.grpcRoutes.update' },
    };
    const d = transition(r, refused, T0);
    expect(entryOf(d).reason).toMatch(
      new RegExp(`route change refused \\(permissionDenied: .* \\(route ${B}\\)\\); rolling back`),
    );
    expect(followUp(d, 'applyRoute')).toMatchObject({ route: A, target: 0, request: { mode: 'rollback' } });
    let x = changed(d);
    const next = transition(x, shown(x, 0, ALL_STABLE), T0);
    expect(followUp(next, 'applyRoute')).toMatchObject({
      route: B,
      target: 1,
      request: { mode: 'rollback' },
    });
    x = changed(next);
    x = changed(transition(x, shown(x, 1, ALL_STABLE), T0));
    expect(x.status).toMatchObject({ phase: 'RolledBack', cause: { kind: 'routeError' } });
  });

  it('a route error reported for a target the change is not at is stale', () => {
    const r = firstConfirmed();
    const error = { kind: 'permissionDenied' as const, message: 'no' };
    const d = transition(
      r,
      { type: 'routeFailed', actor: 'w', target: 0, intentId: intentOf(r).id, error },
      T0,
    );
    expect(reasonOf(d)).toMatch(/is stale/);
  });

  it('a second target that is gone fails the rollout, naming the route', () => {
    const r = firstConfirmed();
    const error = { kind: 'notFound' as const, message: 'grpcRoute not found' };
    const d = changed(
      transition(r, { type: 'routeFailed', actor: 'w', target: 1, intentId: intentOf(r).id, error }, T0),
    );
    expect(d.status).toEqual({ phase: 'Failed', error: `route ${B} not found: grpcRoute not found` });
  });

  it('a problem on the second target needs a person, names its route, and the check reads that route', () => {
    const r = firstConfirmed();
    const gone: RouteSnapshot = { ...routeShowing(ALL_STABLE), rules: [], updateTime: 'u2' };
    const d = transition(r, { ...shown(r, 1, ALL_STABLE), route: gone } as Input, T0);
    expect(entryOf(d).reason).toMatch(new RegExp(`^route ${B}: no rule of the route routes to the stable`));
    const waiting = changed(d);
    expect(waiting.status).toMatchObject({
      phase: 'ActionRequired',
      problem: { kind: 'ruleGone' },
      route: B,
    });
    const check = transition(waiting, due('scheduler'), T0 + 5000);
    expect(followUp(check, 'readRoute')).toMatchObject({ route: B, target: 1 });
    const fixed = transition(
      waiting,
      shown(waiting, 1, ALL_STABLE, false, { route: routeShowing(ALL_STABLE, [], 'u3') }),
      T0,
    );
    expect(followUp(fixed, 'readRoute')).toMatchObject({ route: B, target: 1 });
  });
});

describe('a release of several routes: route operations and late writes', () => {
  const op = (route: string, intentId: number): RouteOperation => ({
    name: `operations/${route.split('/').at(-1)}-${intentId}`,
    rolloutId: 'rel',
    route,
    intentId,
    weights: { stable: 50, canary: 50 },
    startedAt: T0,
  });

  it('confirms a target over earlier operations only when none is on that target’s route', () => {
    const r = firstConfirmed();
    const overA = transition(r, shown(r, 1, STEP1, true, { pending: [op(A, 1)] }), T0);
    expect(changed(overA).weights).toEqual(STEP1);
    const overB = transition(r, shown(r, 1, STEP1, true, { pending: [op(B, 1)] }), T0);
    expect(followUp(overB, 'settleOperations')).toMatchObject({
      route: B,
      target: 1,
      operations: [op(B, 1)],
    });
  });

  it('settles operations that never reported back one route at a time, in target order', () => {
    const r = live();
    const d = transition(
      r,
      { type: 'operationsPending', actor: 'scheduler', operations: [op(B, 1), op(A, 1)] },
      T0,
    );
    expect(followUp(d, 'settleOperations')).toMatchObject({ route: A, target: 0, operations: [op(A, 1)] });
    const rest = transition(r, { type: 'operationsPending', actor: 'scheduler', operations: [op(B, 1)] }, T0);
    expect(followUp(rest, 'settleOperations')).toMatchObject({ route: B, target: 1 });
  });

  it('puts a late write on the second target right, on that route only', () => {
    const r = live();
    const landed: Input = {
      type: 'operationsSettled',
      actor: 'scheduler',
      target: 1,
      intent: null,
      outcomes: [{ operation: op(B, 1), state: 'done' }],
      route: routeShowing({ stable: 50, canary: 50 }),
      pending: [],
    };
    const d = transition(r, landed, T0);
    expect(entryOf(d).reason).toMatch(
      new RegExp(`landed on ${B} after the rollout moved on; restoring stable 90%`),
    );
    expect(followUp(d, 'restoreRoute')).toMatchObject({
      route: B,
      target: 1,
      request: { weights: STEP1, precondition: { stable: 50, canary: 50 } },
    });
    const restoring = changed(d);
    expect(restoring.intent).toMatchObject({ purpose: 'restore', done: [0] });
    const back = transition(restoring, shown(restoring, 1, STEP1), T0);
    expect(entryOf(back)).toMatchObject({ event: 'rollout.weights_restored' });
    expect(entryOf(back).reason).toMatch(new RegExp(`^route ${B} confirmed back at stable 90%`));
    // The same late write seen on the first route's read changes nothing there.
    const elsewhere = transition(r, { ...landed, target: 0, route: routeShowing(STEP1) } as Input, T0);
    expect(reasonOf(elsewhere)).toMatch(/nothing to put right/);
  });
});
