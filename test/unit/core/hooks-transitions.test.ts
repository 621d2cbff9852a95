/**
 * When each hook is called and what its result does, in the pure core: preRollout ends a
 * rollout Failed before any traffic moves; preStep and confirmPromotion hold and call again with
 * backoff until failAfter, then pause or roll back; check hooks gate a step's completion with a
 * failure limit and never pass on an inconclusive answer; notifications change nothing.
 */
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../../functions/core/decision.ts';
import { hookBackoffMs } from '../../../functions/core/hook-state.ts';
import type { HookPoint, HookResult, HookStatus } from '../../../functions/core/hooks.ts';
import type { Input } from '../../../functions/core/inputs.ts';
import type { RolloutRequestInput } from '../../../functions/core/request.ts';
import type { Rollout } from '../../../functions/core/state.ts';
import { transition } from '../../../functions/core/transition.ts';
import { changed, due, followUp, observed, reasonOf } from '../../support/drive.ts';
import { newRollout } from '../../support/fixtures.ts';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const S = 1000;
const URL = 'https://hooks.example.com/h';
const NOT_PASSED: readonly HookStatus[] = ['failed', 'timeout', 'unreachable', 'invalidAnswer', 'refused'];
const INCONCLUSIVE: readonly HookStatus[] = [
  'inconclusive',
  'timeout',
  'unreachable',
  'invalidAnswer',
  'refused',
];

function result(point: HookPoint, hook: string, status: HookStatus): HookResult {
  const code = status === 'passed' ? 200 : status === 'failed' ? 503 : null;
  const excerpt = status === 'passed' ? '' : `${status}: not ready`;
  return { point, hook, status, code, excerpt, attempts: 3, durationMs: 120 };
}

function called(point: HookPoint, step: number | null, ...results: HookResult[]): Input {
  return { type: 'hooksCalled', actor: 'workflow:e1', point, step, results };
}

function rolloutWith(hooks: RolloutRequestInput['hooks']): Rollout {
  return newRollout('r1', { hooks }, T0).rollout;
}

const gating = (onFailure: 'pause' | 'rollback') => ({ name: 'gate', url: URL, failAfter: '1m', onFailure });

describe('preRollout', () => {
  const r0 = rolloutWith({ preRollout: [{ name: 'smoke', url: URL }] });

  it('is called before any traffic moves; all passed → the first step is applied', () => {
    const d = transition(r0, { type: 'start', actor: 'workflow:e1' }, T0);
    expect(reasonOf(d)).toMatch(/calling preRollout hooks \(smoke\)/);
    const call = followUp(d, 'callHooks');
    expect(call).toMatchObject({ point: 'preRollout', step: 0, nextWeights: null });
    const passed = changed(
      transition(r0, called('preRollout', 0, result('preRollout', 'smoke', 'passed')), T0),
    );
    expect(passed.status.phase).toBe('Pending');
    expect(passed.hookState?.preRolloutPassed).toBe(true);
    const applying = transition(passed, due(), T0);
    expect(followUp(applying, 'applyRoute').intent.weights).toEqual({ stable: 90, canary: 10 });
  });

  it.each(NOT_PASSED)(
    '%s → Failed with the hook’s name, status, code and excerpt; the route is never touched',
    (status) => {
      const d = transition(r0, called('preRollout', 0, result('preRollout', 'smoke', status)), T0);
      const r = changed(d);
      expect(r.status).toMatchObject({ phase: 'Failed' });
      const error = r.status.phase === 'Failed' ? r.status.error : '';
      expect(error).toContain(`smoke: ${status}`);
      expect(error).toContain(`${status}: not ready`);
      if (status === 'failed') expect(error).toContain('HTTP 503');
      expect(r.intent).toBeNull();
      expect(d.followUp.kind).toBe('none');
      expect(d.kind === 'changed' && d.entry.hooks).toEqual([result('preRollout', 'smoke', status)]);
    },
  );
});

describe('preStep', () => {
  const r0 = rolloutWith({ preStep: [gating('pause')] });

  it('is called before the first step with the weights it would allow', () => {
    const call = followUp(transition(r0, due(), T0), 'callHooks');
    expect(call).toMatchObject({ point: 'preStep', step: 0, nextWeights: { stable: 90, canary: 10 } });
  });

  it.each(NOT_PASSED)('%s → holds the weights and calls again after backoff (10 s, doubling)', (status) => {
    const held = changed(transition(r0, called('preStep', 0, result('preStep', 'gate', status)), T0));
    expect(held.status.phase).toBe('Pending');
    expect(held.weights).toEqual(r0.weights);
    expect(held.intent).toBeNull();
    expect(held.nextActionAt).toBe(T0 + 10 * S);
    expect(reasonOf(transition(held, due(), T0 + 5 * S))).toMatch(/holding before step 1 of 2/);
    followUp(transition(held, due(), T0 + 10 * S), 'callHooks');
    const again = changed(
      transition(held, called('preStep', 0, result('preStep', 'gate', status)), T0 + 10 * S),
    );
    expect(again.nextActionAt).toBe(T0 + 30 * S);
    expect(hookBackoffMs(again.plan, 10)).toBe(120 * S);
  });

  it('passing after a hold applies the step', () => {
    const held = changed(transition(r0, called('preStep', 0, result('preStep', 'gate', 'timeout')), T0));
    const passed = changed(
      transition(held, called('preStep', 0, result('preStep', 'gate', 'passed')), T0 + 10 * S),
    );
    const d = transition(passed, due(), T0 + 10 * S);
    expect(followUp(d, 'applyRoute').intent.weights).toEqual({ stable: 90, canary: 10 });
  });

  it.each(NOT_PASSED)('%s past failAfter → onFailure pause (kind hook); resume calls it again', (status) => {
    const held = changed(transition(r0, called('preStep', 0, result('preStep', 'gate', status)), T0));
    const paused = changed(
      transition(held, called('preStep', 0, result('preStep', 'gate', status)), T0 + 60 * S),
    );
    expect(paused.status).toMatchObject({
      phase: 'Paused',
      step: 0,
      resume: 'applyStep',
      reason: { kind: 'hook', point: 'preStep', hook: 'gate', status },
    });
    const resume: Input = { type: 'control', command: 'resume', actor: 'operator:ann', note: 'fixed' };
    const resumed = transition(paused, resume, T0 + 70 * S);
    expect(changed(resumed).status).toMatchObject({ phase: 'Progressing', step: 0 });
    expect(followUp(resumed, 'callHooks')).toMatchObject({ point: 'preStep', step: 0 });
  });

  it.each(NOT_PASSED)('%s past failAfter with onFailure rollback → RollingBack (cause hook)', (status) => {
    const r = rolloutWith({ preStep: [gating('rollback')] });
    const held = changed(transition(r, called('preStep', 0, result('preStep', 'gate', status)), T0));
    const d = transition(held, called('preStep', 0, result('preStep', 'gate', status)), T0 + 61 * S);
    expect(changed(d).status).toMatchObject({
      phase: 'RollingBack',
      cause: { kind: 'hook', point: 'preStep', status },
    });
  });
});

describe('preStep after a manual gate', () => {
  it('resuming the gate records the resume and calls the hooks; once they pass the next step applies', () => {
    const r = newRollout(
      'r1',
      {
        hooks: { preStep: [gating('pause')] },
        steps: [
          { gate: 'manual', note: 'approve' },
          { weight: 10, hold: '2m' },
        ],
      },
      T0,
    ).rollout;
    // Results for a step the rollout is not about to enter are ignored.
    expect(reasonOf(transition(r, called('preStep', 1, result('preStep', 'gate', 'passed')), T0))).toMatch(
      /moved on/,
    );
    const atGate = changed(transition(r, due(), T0));
    expect(atGate.status).toMatchObject({ phase: 'Paused', reason: { kind: 'gate' } });
    const resume: Input = { type: 'control', command: 'resume', actor: 'operator:ann', note: 'go' };
    const resumed = transition(atGate, resume, T0 + S);
    expect(changed(resumed).status).toMatchObject({ phase: 'Progressing', step: 0 });
    expect(followUp(resumed, 'callHooks')).toMatchObject({ point: 'preStep', step: 1 });
    const passed = changed(
      transition(changed(resumed), called('preStep', 1, result('preStep', 'gate', 'passed')), T0 + 2 * S),
    );
    const d = transition(passed, due(), T0 + 2 * S);
    expect(followUp(d, 'applyRoute').intent.weights).toEqual({ stable: 90, canary: 10 });
  });
});

/** A rollout whose first step's weights are live (confirmed at `at`). */
function live(r: Rollout, at: number): Rollout {
  const applying = changed(transition(r, due(), at));
  return changed(transition(applying, observed(applying), at));
}

describe('check', () => {
  const r0 = rolloutWith({ check: [{ name: 'load', url: URL, failureLimit: 2 }] });
  const step = live(r0, T0);

  it('is called once the settle time has passed after the step’s weights are live', () => {
    expect(transition(step, due(), T0 + 10 * S).followUp.kind).toBe('none');
    expect(followUp(transition(step, due(), T0 + 30 * S), 'callHooks')).toMatchObject({
      point: 'check',
      step: 0,
    });
  });

  it('passed → recorded; the step no longer waits for it', () => {
    const d = transition(step, called('check', 0, result('check', 'load', 'passed')), T0 + 30 * S);
    expect(d.kind === 'changed' && d.entry.event).toBe('rollout.hook_passed');
    expect(transition(changed(d), due(), T0 + 40 * S).followUp.kind).toBe('none');
  });

  it('failed below the limit → called again after backoff; at the limit → rollback (cause hook)', () => {
    const once = transition(step, called('check', 0, result('check', 'load', 'failed')), T0 + 30 * S);
    expect(once.kind === 'changed' && once.entry.event).toBe('rollout.hook_failed');
    const first = changed(once);
    expect(first.status.phase).toBe('Progressing');
    expect(first.nextActionAt).toBe(T0 + 40 * S);
    const twice = changed(
      transition(first, called('check', 0, result('check', 'load', 'failed')), T0 + 40 * S),
    );
    expect(twice.status).toMatchObject({
      phase: 'RollingBack',
      cause: { kind: 'hook', point: 'check', hook: 'load' },
    });
  });

  it('is called again while an analysis window waits for its points (windows never starve it)', () => {
    const first = changed(
      transition(step, called('check', 0, result('check', 'load', 'timeout')), T0 + 30 * S),
    );
    const at = T0 + 5 * 60 * S;
    const window = followUp(transition(first, due(), at), 'measure').window;
    const pending: Input = {
      type: 'windowPending',
      actor: 'workflow:e1',
      window,
      detail: 'canary point(s) not visible yet',
      retryAt: at + 15 * S,
    };
    expect(followUp(transition(first, pending, at), 'callHooks')).toMatchObject({ point: 'check', step: 0 });
    // Not before its backoff: then the window is looked at again when its points may be visible.
    const early = transition(first, pending, T0 + 35 * S);
    expect(early).toMatchObject({ kind: 'unchanged', retryAt: at + 15 * S, followUp: { kind: 'none' } });
  });

  it.each(INCONCLUSIVE)('%s is inconclusive: never a pass, never counts toward the limit', (status) => {
    let r = step;
    for (let i = 0; i < 4; i += 1) {
      const d = transition(r, called('check', 0, result('check', 'load', status)), T0 + (30 + i * 200) * S);
      expect(d.kind === 'changed' && d.entry.event).toBe('rollout.hook_inconclusive');
      r = changed(d);
    }
    expect(r.status.phase).toBe('Progressing');
    expect(r.hookState?.checks).toMatchObject({ passed: [], failures: {}, attempts: 4 });
    expect(r.nextActionAt).toBeLessThanOrEqual(r.hookState?.checks?.nextCallAt ?? 0);
  });
});

describe('confirmPromotion', () => {
  it('is called before the promotion with canary 100 % as the weights it would allow', () => {
    const r = rolloutWith({ confirmPromotion: [gating('pause')] });
    const promoteAt = r.plan.steps.length - 1;
    const waiting: Rollout = { ...r, status: { phase: 'Progressing', step: promoteAt - 1 } };
    const d = transition(
      waiting,
      called('confirmPromotion', promoteAt, result('confirmPromotion', 'gate', 'failed')),
      T0,
    );
    expect(changed(d).status).toMatchObject({ phase: 'Progressing', step: promoteAt - 1 });
    const passed = changed(
      transition(
        changed(d),
        called('confirmPromotion', promoteAt, result('confirmPromotion', 'gate', 'passed')),
        T0 + 10 * S,
      ),
    );
    expect(passed.hookState?.gate).toMatchObject({ point: 'confirmPromotion', passed: ['gate'] });
  });

  it('an operator’s promote skips it (a person’s override)', () => {
    const r = rolloutWith({ confirmPromotion: [gating('pause')] });
    const promote: Input = { type: 'control', command: 'promote', actor: 'operator:ann', note: 'ship it' };
    const d = transition(r, promote, T0);
    expect(followUp(d, 'applyRoute').intent.purpose).toBe('promote');
  });
});

describe('notifications', () => {
  const r0 = rolloutWith({
    onRollback: [{ name: 'page', url: URL }],
    postRollout: [{ name: 'slack', url: URL }],
  });
  const abort: Input = { type: 'control', command: 'abort', actor: 'operator:ann', note: 'bad' };

  function notified(d: Decision) {
    return d.kind === 'changed' ? (d.notify ?? null) : null;
  }

  it('onRollback rides on the change that starts the rollback, beside its route write', () => {
    const d = transition(live(r0, T0), abort, T0 + S);
    expect(notified(d)).toMatchObject({ point: 'onRollback', hooks: [{ name: 'page' }] });
    expect(followUp(d, 'applyRoute').intent.purpose).toBe('rollback');
  });

  it('postRollout rides on the change that reaches a terminal phase, whatever it is', () => {
    const rollingBack = changed(transition(live(r0, T0), abort, T0 + S));
    const ended = transition(rollingBack, observed(rollingBack), T0 + 2 * S);
    expect(changed(ended).status.phase).toBe('Aborted');
    expect(notified(ended)).toMatchObject({ point: 'postRollout' });
    const failedStart = rolloutWith({
      preRollout: [{ name: 'smoke', url: URL }],
      postRollout: [{ name: 'slack', url: URL }],
    });
    const failed = transition(
      failedStart,
      called('preRollout', 0, result('preRollout', 'smoke', 'failed')),
      T0,
    );
    expect(notified(failed)).toMatchObject({ point: 'postRollout' });
  });

  it.each(NOT_PASSED)('a %s notification is recorded on a terminal rollout and changes nothing', (status) => {
    const rollingBack = changed(transition(live(r0, T0), abort, T0 + S));
    const ended = changed(transition(rollingBack, observed(rollingBack), T0 + 2 * S));
    const d = transition(
      ended,
      called('postRollout', null, result('postRollout', 'slack', status)),
      T0 + 3 * S,
    );
    const after = changed(d);
    expect(after.status).toEqual(ended.status);
    expect(after.weights).toEqual(ended.weights);
    expect(d.kind === 'changed' && d.entry.event).toBe('rollout.hook_notified');
    expect(d.kind === 'changed' && d.entry.to.phase).toBe('Aborted');
    expect(notified(d)).toBeNull();
  });

  it('a gate’s result after the end is ignored', () => {
    const rollingBack = changed(transition(live(r0, T0), abort, T0 + S));
    const ended = changed(transition(rollingBack, observed(rollingBack), T0 + 2 * S));
    expect(
      reasonOf(transition(ended, called('preStep', 1, result('preStep', 'gate', 'passed')), T0)),
    ).toMatch(/ended/);
  });
});
