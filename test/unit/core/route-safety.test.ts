/**
 * Route safety in the core: the managed rule found by what it routes, rollbacks that take the
 * canary out without deleting a person's additions, no "canary out" while any rule still sends
 * it traffic, and one "a person must act" instead of an endless retry.
 */
import { describe, expect, it } from 'vitest';
import type { Input } from '../../../functions/core/inputs.ts';
import type { RouteDestination, RouteRule, RouteSnapshot } from '../../../functions/core/routing/snapshot.ts';
import type { Rollout, RouteIntent } from '../../../functions/core/state.ts';
import { transition } from '../../../functions/core/transition.ts';
import { ALL_STABLE } from '../../../functions/core/weights.ts';
import { applyAndConfirm, changed, due, followUp, reasonOf } from '../../support/drive.ts';
import { backendName, newRollout, RULE_SHAPE } from '../../support/fixtures.ts';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const S = 1000;
const STABLE = backendName('checkout-stable');
const CANARY = backendName('checkout-canary');
const MANUAL = backendName('manual');

const to = (name: string, weight: number | null = null): RouteDestination => ({
  name,
  backend: name,
  weight,
  extras: '{}',
});
const managed = (...destinations: RouteDestination[]): RouteRule => ({ destinations, shape: RULE_SHAPE });
const personal = (...destinations: RouteDestination[]): RouteRule => ({
  destinations,
  shape: '{"matches":"beta"}',
});
const snapshot = (updateTime: string, ...rules: RouteRule[]): RouteSnapshot => ({
  updateTime,
  rules,
  shape: '{}',
  attachments: { meshes: [], gateways: [] },
});

function intentOf(r: Rollout): RouteIntent {
  if (r.intent === null) throw new Error('expected a route change in flight');
  return r.intent;
}

function seen(r: Rollout, route: RouteSnapshot, written = true): Input {
  return { type: 'routeObserved', actor: 'workflow:e1', intent: intentOf(r), written, route, pending: [] };
}

/** A rollout live at 30 % canary. */
function atThirty(): Rollout {
  const r = newRollout('safe', { steps: [{ weight: 30, hold: '10m' }] }, T0).rollout;
  return applyAndConfirm(r, due(), T0);
}

const abort: Input = { type: 'control', command: 'abort', actor: 'operator:ann', note: 'stop' };

describe('the managed rule, found by what it routes', () => {
  it('confirms on the rule a person moved by inserting rules before it, and remembers where it is', () => {
    const r = changed(transition(newRollout('safe', {}, T0).rollout, due(), T0));
    const moved = snapshot(
      'u2',
      personal(to(MANUAL)),
      personal(to(MANUAL)),
      managed(to(STABLE, 90), to(CANARY, 10)),
    );
    const live = changed(transition(r, seen(r, moved), T0 + S));
    expect(live).toMatchObject({ weights: { stable: 90, canary: 10 }, intent: null, ruleIndex: 2 });
  });

  it('stops for a person when the managed rule is deleted, then resumes once the route changes', () => {
    const r = changed(transition(atThirty(), abort, T0 + S));
    const gone = snapshot('u3', personal(to(MANUAL)));
    const blocked = transition(r, seen(r, gone, false), T0 + 2 * S);
    const waiting = changed(blocked);
    expect(waiting.status).toMatchObject({
      phase: 'ActionRequired',
      problem: { kind: 'ruleGone' },
      routeSeen: 'u3',
    });
    expect(blocked.kind === 'changed' && blocked.entry.reason).toMatch(/a person must act/);
    // The same route again: nothing happens, nothing is written.
    expect(reasonOf(transition(waiting, seen(waiting, gone, false), T0 + 3 * S))).toMatch(
      /waiting for a person/,
    );
    // A person puts the rule back: the rollback goes on, reading the route before writing.
    const back = snapshot('u4', personal(to(MANUAL)), managed(to(STABLE, 70), to(CANARY, 30)));
    const retried = transition(waiting, seen(waiting, back, false), T0 + 4 * S);
    expect(changed(retried).status).toMatchObject({ phase: 'RollingBack', cause: { kind: 'abort' } });
    expect(followUp(retried, 'readRoute').route).toBe(r.spec.route);
  });
});

describe('rollback takes the canary out without deleting a person’s additions', () => {
  it('confirms a rollback that kept a person’s destination in the managed rule', () => {
    const r = changed(transition(atThirty(), abort, T0 + S));
    expect(followUp(transition(atThirty(), abort, T0 + S), 'applyRoute').request).toMatchObject({
      mode: 'rollback',
      precondition: null,
    });
    const done = changed(
      transition(r, seen(r, snapshot('u2', managed(to(STABLE, 90), to(MANUAL, 10)))), T0 + 2 * S),
    );
    expect(done.status).toMatchObject({ phase: 'Aborted' });
    expect(done.weights).toEqual(ALL_STABLE);
  });

  it('never claims the canary is out while another rule sends it traffic, and names the rule', () => {
    const r = changed(transition(atThirty(), abort, T0 + S));
    const elsewhere = snapshot('u2', personal(to(CANARY)), managed(to(STABLE)));
    const blocked = transition(r, seen(r, elsewhere), T0 + 2 * S);
    const waiting = changed(blocked);
    expect(waiting.status).toMatchObject({
      phase: 'ActionRequired',
      problem: { kind: 'canaryElsewhere', rules: [0] },
    });
    expect(blocked.kind === 'changed' && blocked.entry.reason).toMatch(
      /rule 0 still sends the canary traffic/,
    );
    // An alert meanwhile is noted, nothing else; the person takes the canary out; the rollback completes.
    const alert: Input = {
      type: 'alert',
      actor: 'alert:p',
      incident: { incidentId: 'i', state: 'open', policy: 'p', condition: 'c', summary: 's' },
    };
    expect(reasonOf(transition(waiting, alert, T0 + 3 * S))).toMatch(/already rolling back/);
    const fixed = snapshot('u3', personal(to(MANUAL)), managed(to(STABLE)));
    const resumed = changed(transition(waiting, seen(waiting, fixed, false), T0 + 4 * S));
    const done = changed(transition(resumed, seen(resumed, fixed, false), T0 + 5 * S));
    expect(done.status.phase).toBe('Aborted');
  });

  it('stops for a person, not in a loop, when a re-applied step would remove a person’s destination', () => {
    let r = changed(transition(newRollout('safe', {}, T0).rollout, due(), T0));
    r = changed(transition(r, seen(r, snapshot('u2', managed(to(STABLE, 80), to(CANARY, 20)))), T0 + S));
    expect(r.status).toMatchObject({ phase: 'Paused', reason: { kind: 'drift' } });
    r = changed(
      transition(r, { type: 'control', command: 'resume', actor: 'op', note: 'replace it' }, T0 + 2 * S),
    );
    const withManual = snapshot('u3', managed(to(STABLE, 8), to(CANARY, 1), to(MANUAL, 1)));
    const blocked = changed(transition(r, seen(r, withManual, false), T0 + 3 * S));
    expect(blocked.status).toMatchObject({
      phase: 'ActionRequired',
      problem: { kind: 'foreignDestinations', rule: 0, backends: [MANUAL] },
      resume: { phase: 'Progressing', step: 0 },
    });
    // Forward moves wait; promote and abort are a person's answers.
    expect(
      reasonOf(transition(blocked, { type: 'control', command: 'pause', actor: 'op', note: '' }, T0 + 4 * S)),
    ).toMatch(/a person must act on the route first/);
    const promoted = changed(
      transition(blocked, { type: 'control', command: 'promote', actor: 'op', note: '' }, T0 + 5 * S),
    );
    expect(promoted.status.phase).toBe('Promoting');
    const aborted = changed(transition(blocked, abort, T0 + 5 * S));
    expect(aborted.status).toMatchObject({ phase: 'RollingBack', cause: { kind: 'abort' } });
  });
});

describe('a person’s edit is never lost silently', () => {
  const written = (
    r: Rollout,
    route: RouteSnapshot,
    before: RouteSnapshot,
    concurrent: RouteSnapshot[],
  ): Input => ({
    type: 'routeObserved',
    actor: 'workflow:e1',
    intent: intentOf(r),
    written: true,
    route,
    pending: [],
    before,
    concurrent: concurrent.map((c, i) => ({
      operation: `operations/person-${i}`,
      endedAt: c.updateTime,
      route: c,
    })),
  });
  const before = snapshot('u1', managed(to(STABLE)));
  const after = snapshot('u3', managed(to(STABLE, 90), to(CANARY, 10)));

  it('pauses when the write overwrote a rule change someone made while it was in flight, keeping both routes', () => {
    const r = changed(transition(newRollout('safe', {}, T0).rollout, due(), T0));
    const theirs = snapshot('u2', personal(to(MANUAL)), managed(to(STABLE)));
    const d = transition(r, written(r, after, before, [theirs]), T0 + S);
    const paused = changed(d);
    expect(paused).toMatchObject({
      weights: { stable: 90, canary: 10 },
      intent: null,
      status: { phase: 'Paused', reason: { kind: 'drift' }, resume: 'continue' },
    });
    expect(d.kind === 'changed' && d.entry.reason).toMatch(/operations\/person-0.*overwritten/);
    expect(d.kind === 'changed' && d.entry.route).toEqual({ before, overwritten: theirs });
  });

  it('goes on when the other write changed only what a write of rules keeps (labels), or the same as it', () => {
    const r = changed(transition(newRollout('safe', {}, T0).rollout, due(), T0));
    const labels = { ...before, updateTime: 'u2', shape: '{"labels":{"a":"b"}}' };
    expect(changed(transition(r, written(r, after, before, [labels]), T0 + S)).weights).toEqual({
      stable: 90,
      canary: 10,
    });
    const same = { ...after, updateTime: 'u2' };
    const live = changed(transition(r, written(r, after, before, [same]), T0 + S));
    expect(live.status.phase).toBe('Progressing');
  });

  it('completes a rollback that overwrote someone’s change, saying so and keeping it', () => {
    const r = changed(transition(atThirty(), abort, T0 + S));
    const thirty = snapshot('u1', managed(to(STABLE, 70), to(CANARY, 30)));
    const theirs = snapshot('u2', managed(to(STABLE, 70), to(CANARY, 30)), personal(to(MANUAL)));
    const d = transition(r, written(r, snapshot('u3', managed(to(STABLE))), thirty, [theirs]), T0 + 2 * S);
    expect(changed(d).status.phase).toBe('Aborted');
    expect(d.kind === 'changed' && d.entry.reason).toMatch(/aborted; a change someone else made/);
    expect(d.kind === 'changed' && d.entry.route?.overwritten).toEqual(theirs);
  });
});

describe('operator commands are never silently lost', () => {
  it('answers an abort that arrives after the rollout succeeded with what happened meanwhile', () => {
    let r = newRollout('late', { steps: [{ weight: 30, hold: '0s' }], onSuccess: 'keepBoth' }, T0).rollout;
    r = applyAndConfirm(r, due(), T0);
    const issued = T0 + S;
    r = { ...r, status: { phase: 'Succeeded' }, updatedAt: T0 + 30 * S };
    const late: Input = {
      type: 'control',
      command: 'abort',
      actor: 'operator:ann',
      note: 'stop',
      issuedAt: issued,
    };
    const d = transition(r, late, T0 + 50 * S);
    const recorded = changed(d);
    expect(recorded.status).toEqual({ phase: 'Succeeded' });
    expect(d.kind === 'changed' && d.entry.event).toBe('rollout.command_overtaken');
    expect(d.kind === 'changed' && d.entry.reason).toMatch(
      new RegExp(
        `abort by operator:ann \\(issued at ${new Date(issued).toISOString()}, 49s before it arrived\\) came after the rollout had moved on — it is Succeeded since`,
      ),
    );
    expect(d.kind === 'changed' && d.entry.reason).toMatch(
      /terminal phases never change; nothing was changed$/,
    );
  });

  it('applies a late command that still applies, saying when it was issued; a timely one as ever', () => {
    const r = atThirty();
    const late = transition(
      r,
      { type: 'control', command: 'pause', actor: 'op', note: 'x', issuedAt: T0 - S },
      T0 + S,
    );
    expect(changed(late).status.phase).toBe('Paused');
    expect(late.kind === 'changed' && late.entry.reason).toMatch(/\(issued at .*, \d+s before it arrived\)$/);
    const timely = transition(
      r,
      { type: 'control', command: 'resume', actor: 'op', note: 'x', issuedAt: T0 + S },
      T0 + S,
    );
    expect(reasonOf(timely)).toMatch(/not paused/);
    // Answered at once (the HTTP path): nothing to add.
    expect(
      reasonOf(transition(r, { type: 'control', command: 'resume', actor: 'op', note: 'x' }, T0 + S)),
    ).toMatch(/not paused/);
  });
});
