import { describe, expect, it } from 'vitest';
import type { Decision } from '../../../functions/core/decision.ts';
import type { IncidentInput, Input } from '../../../functions/core/inputs.ts';
import type { Rollout } from '../../../functions/core/state.ts';
import { transition } from '../../../functions/core/transition.ts';
import { canaryAt } from '../../../functions/core/weights.ts';
import { changed, due, followUp, observed, reasonOf, routeInput, verdictInput } from '../../support/drive.ts';
import { newRollout } from '../../support/fixtures.ts';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const S = 1000;
const STEPS = [
  { weight: 10, hold: '2m' },
  { weight: 25, hold: '2m' },
  { weight: 50, hold: '2m' },
];

/** A rollout on its third step, 50 % confirmed live at T0. */
function atThirdStep(steps = STEPS, step = 2, canary = 50): Rollout {
  const r = newRollout('ga', { steps }, T0 - 600 * S).rollout;
  return {
    ...r,
    status: { phase: 'Progressing', step },
    weights: canaryAt(canary),
    stepStartedAt: T0,
    version: 7,
    updatedAt: T0,
  };
}

function abort(gradual: { holdMs: number } | null, actor = 'operator:ann', note = 'stable is cold'): Input {
  return { type: 'control', actor, command: 'abort', note, gradual };
}

function control(command: 'pause' | 'resume' | 'promote', actor = 'operator:bo'): Input {
  return { type: 'control', actor, command, note: `${command} please` };
}

function eventOf(d: Decision): string {
  if (d.kind !== 'changed') throw new Error(`expected a change, got unchanged: ${d.reason}`);
  return d.entry.event;
}

const alert: IncidentInput = {
  incidentId: 'inc-1',
  state: 'open',
  policy: 'canary 5xx',
  condition: '5xx above 10%',
  summary: '5xx ratio 0.35',
};

/** Applies a decision and confirms the route change it asks for at `at`. */
function confirmed(d: Decision, at: number): Rollout {
  const r = changed(d);
  return changed(transition(r, observed(r), at));
}

describe('gradual abort: stepping down', () => {
  it('steps down through each lower weight in order, holding each once live, then ends Aborted', () => {
    let r = atThirdStep();
    const started = transition(r, abort({ holdMs: 60 * S }), T0 + 10 * S);
    expect(eventOf(started)).toBe('rollout.aborting');
    r = changed(started);
    expect(r.status).toEqual({
      phase: 'Aborting',
      step: 1,
      actor: 'operator:ann',
      note: 'stable is cold',
      holdMs: 60 * S,
      held: null,
    });
    expect(r.intent).toMatchObject({ purpose: 'stepDown', weights: canaryAt(25), previous: canaryAt(50) });
    // Written like a forward step: only over the weights the rollout confirmed.
    expect(followUp(started, 'applyRoute').request).toMatchObject({
      weights: canaryAt(25),
      mode: 'shift',
      precondition: canaryAt(50),
    });

    const live25 = transition(r, observed(r), T0 + 11 * S);
    expect(eventOf(live25)).toBe('rollout.weights_live');
    r = changed(live25);
    expect(r.weights).toEqual(canaryAt(25));
    expect(r.stepStartedAt).toBe(T0 + 11 * S);
    expect(r.analysis.windowsJudged).toBe(0);
    // The hold's end (T0 + 71 s) comes before the first analysis window is readable.
    expect(r.nextActionAt).toBe(T0 + 71 * S);
    expect(reasonOf(transition(r, due(), T0 + 70 * S))).toMatch(/holding stable 75% \/ canary 25% until/);

    const down10 = transition(r, due(), T0 + 71 * S);
    expect(eventOf(down10)).toBe('rollout.stepping_down');
    r = changed(down10);
    expect(r.status).toMatchObject({ phase: 'Aborting', step: 0 });
    expect(r.intent).toMatchObject({ purpose: 'stepDown', weights: canaryAt(10), previous: canaryAt(25) });
    r = changed(transition(r, observed(r), T0 + 72 * S));
    expect(r.weights).toEqual(canaryAt(10));
    expect(r.nextActionAt).toBe(T0 + 132 * S);

    const out = transition(r, due(), T0 + 132 * S);
    expect(eventOf(out)).toBe('rollout.rolling_back');
    r = changed(out);
    expect(r.status).toEqual({
      phase: 'RollingBack',
      cause: { kind: 'abort', actor: 'operator:ann', note: 'stable is cold' },
    });
    expect(followUp(out, 'applyRoute').request).toMatchObject({ mode: 'rollback', precondition: null });
    const done = transition(r, observed(r), T0 + 133 * S);
    expect(eventOf(done)).toBe('rollout.aborted');
    r = changed(done);
    expect(r.status).toEqual({ phase: 'Aborted', actor: 'operator:ann', note: 'stable is cold' });
    expect(r.weights).toEqual(canaryAt(0));
  });

  it('scales the hold by the plan’s time scale', () => {
    const base = atThirdStep();
    const r = changed(
      transition({ ...base, plan: { ...base.plan, timeScale: 20 } }, abort({ holdMs: 60 * S }), T0),
    );
    expect(r.status).toMatchObject({ phase: 'Aborting', holdMs: 3 * S });
  });

  it('goes on analysing a lower weight: its windows are measured and a failing one rolls back at once', () => {
    let r = confirmed(transition(atThirdStep(), abort({ holdMs: 600 * S }), T0), T0 + S);
    const ready = transition(r, due(), T0 + 135 * S);
    const window = followUp(ready, 'measure').window;
    expect(window).toEqual({ index: 1, start: T0 + 60 * S, end: T0 + 120 * S });
    r = changed(transition(r, verdictInput(window, 'pass'), T0 + 135 * S));
    expect(r.status.phase).toBe('Aborting');
    expect(r.analysis.windowsJudged).toBe(1);

    const next = followUp(transition(r, due(), T0 + 195 * S), 'measure').window;
    const failed = transition(r, verdictInput(next, 'fail'), T0 + 195 * S);
    expect(eventOf(failed)).toBe('rollout.rolling_back');
    r = changed(failed);
    expect(r.status).toMatchObject({ phase: 'RollingBack', cause: { kind: 'verdict' } });
    expect(r.intent).toMatchObject({ purpose: 'rollback', overwrite: true, previous: canaryAt(25) });
    expect(changed(transition(r, observed(r), T0 + 196 * S)).status.phase).toBe('RolledBack');
  });
});

describe('gradual abort: rollback still wins', () => {
  it('rolls back at once on an alert while a step down is in flight, overwriting it', () => {
    const r = changed(transition(atThirdStep(), abort({ holdMs: 60 * S }), T0));
    const d = transition(r, { type: 'alert', actor: 'alert:canary 5xx', incident: alert }, T0 + S);
    expect(eventOf(d)).toBe('rollout.rolling_back');
    const back = changed(d);
    expect(back.status).toMatchObject({
      phase: 'RollingBack',
      cause: { kind: 'alert', incidentId: 'inc-1' },
    });
    expect(back.intent).toMatchObject({ purpose: 'rollback', overwrite: true });
    expect(followUp(d, 'applyRoute').request).toMatchObject({ mode: 'rollback', precondition: null });
    // The step down's late confirmation is stale; the rollback is confirmed over whatever it wrote.
    expect(reasonOf(transition(back, observed(r), T0 + 2 * S))).toMatch(/stale/);
    const rolledBack = changed(transition(back, observed(back), T0 + 3 * S));
    expect(rolledBack.status.phase).toBe('RolledBack');
  });

  it('rolls back at once on an alert while a lower weight holds', () => {
    const r = confirmed(transition(atThirdStep(), abort({ holdMs: 60 * S }), T0), T0 + S);
    const back = changed(transition(r, { type: 'alert', actor: 'alert:x', incident: alert }, T0 + 5 * S));
    expect(back.status).toMatchObject({ phase: 'RollingBack', cause: { kind: 'alert' } });
    expect(back.intent).toMatchObject({ purpose: 'rollback', previous: canaryAt(25) });
  });

  it('a plain abort during the step-down takes the canary out at once', () => {
    const r = confirmed(transition(atThirdStep(), abort({ holdMs: 600 * S }), T0), T0 + S);
    const d = transition(r, abort(null, 'operator:cy', 'now'), T0 + 5 * S);
    expect(eventOf(d)).toBe('rollout.rolling_back');
    expect(changed(d).status).toEqual({
      phase: 'RollingBack',
      cause: { kind: 'abort', actor: 'operator:cy', note: 'now' },
    });
    expect(reasonOf(transition(r, abort({ holdMs: 60 * S }), T0 + 5 * S))).toMatch(/already stepping down/);
    expect(reasonOf(transition(r, control('promote'), T0 + 5 * S))).toMatch(/cannot promote/);
  });

  it('does not step down over a route someone changed: the canary is taken out at once', () => {
    const r = changed(transition(atThirdStep(), abort({ holdMs: 60 * S }), T0));
    const intent = r.intent;
    if (intent === null) throw new Error('expected a step down in flight');
    const d = transition(r, routeInput(intent, canaryAt(40)), T0 + S);
    expect(changed(d).status).toMatchObject({ phase: 'RollingBack', cause: { kind: 'abort' } });
  });
});

describe('gradual abort: pause, resume, and nothing to step through', () => {
  it('a pause holds the step-down at its weights; resume goes on down', () => {
    let r = confirmed(transition(atThirdStep(), abort({ holdMs: 60 * S }), T0), T0 + S);
    const paused = transition(r, control('pause'), T0 + 10 * S);
    expect(eventOf(paused)).toBe('rollout.paused');
    r = changed(paused);
    expect(r.status).toMatchObject({ phase: 'Aborting', held: { actor: 'operator:bo' } });
    expect(reasonOf(transition(r, control('pause'), T0 + 11 * S))).toMatch(/already held/);
    // Held past the hold's end: only analysis windows are due, the weights stay.
    expect(r.nextActionAt).toBe(T0 + 135 * S);
    expect(reasonOf(transition(r, due(), T0 + 100 * S))).toMatch(
      /held at stable 75% \/ canary 25% by operator:bo/,
    );

    const resumed = transition(r, control('resume'), T0 + 120 * S);
    expect(eventOf(resumed)).toBe('rollout.resumed');
    r = changed(resumed);
    expect(r.status).toMatchObject({ phase: 'Aborting', held: null });
    expect(r.nextActionAt).toBe(T0 + 61 * S);
    const down = changed(transition(r, due(), T0 + 121 * S));
    expect(down.intent).toMatchObject({ purpose: 'stepDown', weights: canaryAt(10) });
    expect(reasonOf(transition(down, control('resume'), T0 + 122 * S))).toMatch(/not held/);
  });

  it('aborts at once from the first step, before any traffic, and says why', () => {
    const first = transition(atThirdStep(STEPS, 0, 10), abort({ holdMs: 60 * S }), T0);
    expect(eventOf(first)).toBe('rollout.rolling_back');
    expect(changed(first).status).toMatchObject({ phase: 'RollingBack', cause: { kind: 'abort' } });
    expect(first.kind === 'changed' && first.entry.reason).toMatch(/nothing to step down through/);

    const pending = newRollout('ga0', { steps: STEPS }, T0).rollout;
    const d = transition(pending, abort({ holdMs: 60 * S }), T0);
    expect(changed(d).status).toMatchObject({ phase: 'RollingBack', cause: { kind: 'abort' } });
  });

  it('steps down from a paused rollout, and is refused while already rolling back', () => {
    const r = atThirdStep();
    const paused: Rollout = {
      ...r,
      status: { phase: 'Paused', step: 2, reason: { kind: 'gate', note: null }, resume: 'nextStep' },
    };
    expect(changed(transition(paused, abort({ holdMs: 60 * S }), T0)).intent).toMatchObject({
      weights: canaryAt(25),
    });
    const rollingBack = changed(transition(r, abort(null), T0));
    expect(reasonOf(transition(rollingBack, abort({ holdMs: 60 * S }), T0 + S))).toBe(
      'already rolling back to stable',
    );
  });
});
