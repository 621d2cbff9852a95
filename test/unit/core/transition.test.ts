import { describe, expect, it } from 'vitest';
import { checkSplit } from '../../../functions/core/analysis/split.ts';
import type { AnalysisWindow } from '../../../functions/core/analysis/verdict.ts';
import { createRollout, planRetry } from '../../../functions/core/create.ts';
import { executionDrives } from '../../../functions/core/drivers.ts';
import type { Input } from '../../../functions/core/inputs.ts';
import { nextWindowDueAt } from '../../../functions/core/schedule.ts';
import type { Rollout } from '../../../functions/core/state.ts';
import { transition } from '../../../functions/core/transition.ts';
import { ALL_CANARY, ALL_STABLE } from '../../../functions/core/weights.ts';
import {
  applyAndConfirm,
  changed,
  due,
  followUp,
  observed,
  reasonOf,
  routeInput,
  routeShowing,
  verdictInput,
} from '../../support/drive.ts';
import { newRollout, RULE_SHAPE, request, TIMING } from '../../support/fixtures.ts';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const fail = (): never => {
  throw new Error('expected a route change in flight');
};
const S = 1000;
// Fixture analysis: settle 30 s, Cloud Run ingestion delay 180 s, 60 s windows on minute
// boundaries, looked at from 15 s after their end (the ingestion frontier). Weights confirmed at
// T0 or T0 + 1 s: the first window is [T0 + 60 s, T0 + 120 s), first looked at T0 + 135 s and
// past its deadline at T0 + 300 s; a 2-minute hold needs the second one too (T0 + 195 s).
const FIRST_READY = T0 + 135 * S;
const SECOND_READY = T0 + 195 * S;
const FIRST_DEADLINE = T0 + 300 * S;

function fresh(
  steps = [{ weight: 10, hold: '2m' }, { gate: 'manual' as const }, { weight: 50, hold: '2m' }],
): Rollout {
  return newRollout('r1', { steps }, T0).rollout;
}

/** Drives a confirmed step through one passing window; returns the rollout and the time used. */
function passWindow(r: Rollout, at: number, requests = 100): Rollout {
  const d = transition(r, due(), at);
  const window = followUp(d, 'measure').window;
  return changed(transition(r, verdictInput(window, 'pass', requests), at));
}

describe('transition: the happy path', () => {
  it('walks weight steps, a manual gate and the final promotion to Succeeded', () => {
    let r = fresh();
    const started = transition(r, { type: 'start', actor: 'workflow:e1' }, T0);
    r = changed(started);
    expect(r.status).toEqual({ phase: 'Progressing', step: 0 });
    expect(r.intent).toMatchObject({
      purpose: 'step',
      weights: { stable: 90, canary: 10 },
      previous: ALL_STABLE,
    });
    expect(followUp(started, 'applyRoute').intent).toBe(r.intent);
    expect(started.kind === 'changed' && started.entry.event).toBe('rollout.weights_applying');

    r = changed(transition(r, observed(r), T0 + S));
    expect(r.weights).toEqual({ stable: 90, canary: 10 });
    expect(r.intent).toBeNull();
    expect(r.stepStartedAt).toBe(T0 + S);
    expect(r.nextActionAt).toBe(FIRST_READY);

    const early = transition(r, due(), T0 + 60 * S);
    expect(reasonOf(early)).toMatch(/hold ends .*needs a passing window and 50 canary requests/);
    expect(early.followUp).toEqual({ kind: 'none' });
    expect(r.nextActionAt).toBe(FIRST_READY);

    const ready = transition(r, due(), FIRST_READY);
    expect(followUp(ready, 'measure').window).toEqual({ index: 1, start: T0 + 60 * S, end: T0 + 120 * S });
    r = passWindow(r, FIRST_READY);
    expect(r.analysis).toMatchObject({ windowsJudged: 1, stepCanaryRequests: 100, splitSeen: true });
    expect(r.analysis.last?.verdict).toBe('pass');
    // The hold (2 m) is over, but its last second is in a window not judged yet.
    expect(reasonOf(transition(r, due(), FIRST_READY + S))).toMatch(/needs a passing window/);
    r = passWindow(r, SECOND_READY);

    // Hold (2 m) is over and judged to its end: the gate pauses the rollout.
    r = changed(transition(r, due(), SECOND_READY));
    expect(r.status).toMatchObject({
      phase: 'Paused',
      step: 1,
      reason: { kind: 'gate' },
      resume: 'nextStep',
    });
    expect(reasonOf(transition(r, due(), T0 + 200 * S))).toMatch(/manual gate/);
    // The canary still serves 10% while paused, so its analysis goes on.
    expect(followUp(transition(r, due(), T0 + 420 * S), 'measure').window.index).toBe(3);

    const resumed = transition(
      r,
      { type: 'control', command: 'resume', actor: 'operator:ann', note: 'looks good' },
      T0 + 500 * S,
    );
    r = changed(resumed);
    expect(r.status).toEqual({ phase: 'Progressing', step: 2 });
    expect(resumed.kind === 'changed' && resumed.entry.reason).toMatch(/resumed by operator:ann: looks good/);
    r = changed(transition(r, observed(r), T0 + 501 * S));
    // Confirmed at T0 + 501 s: windows from T0 + 540 s, each looked at 15 s after its end; the
    // hold ends at T0 + 621 s, inside the second window.
    r = passWindow(r, T0 + 615 * S);
    r = passWindow(r, T0 + 675 * S);
    const promoting = transition(r, due(), T0 + 675 * S);
    r = changed(promoting);
    expect(r.status).toEqual({ phase: 'Promoting' });
    expect(r.intent).toMatchObject({ purpose: 'promote', weights: ALL_CANARY });

    const done = transition(r, observed(r), T0 + 700 * S);
    r = changed(done);
    expect(r.status).toEqual({ phase: 'Succeeded' });
    expect(r.weights).toEqual(ALL_CANARY);
    expect(r.nextActionAt).toBeNull();
    expect(done.kind === 'changed' && done.entry.event).toBe('rollout.succeeded');
    expect(done.followUp).toEqual({ kind: 'none' });
    expect(r.version).toBe(12);
  });

  it('keeps both backends at the last step when onSuccess is keepBoth', () => {
    let r = newRollout('keep', { steps: [{ weight: 30, hold: '0s' }], onSuccess: 'keepBoth' }, T0).rollout;
    r = applyAndConfirm(r, { type: 'start', actor: 'scheduler' }, T0);
    r = passWindow(r, FIRST_READY);
    r = changed(transition(r, due(), FIRST_READY));
    expect(r.status).toEqual({ phase: 'Succeeded' });
    expect(r.weights).toEqual({ stable: 70, canary: 30 });
  });

  it('does not complete a step without evidence, however long it holds', () => {
    let r = applyAndConfirm(fresh(), due(), T0);
    r = passWindow(r, FIRST_READY, 20);
    expect(reasonOf(transition(r, due(), FIRST_READY + S))).toMatch(/have 20/);
    r = passWindow(r, SECOND_READY, 40);
    expect(changed(transition(r, due(), SECOND_READY)).status.phase).toBe('Paused');
  });

  it('gives a late driver every window past its deadline as one measurement, once the step’s split was seen', () => {
    let r = applyAndConfirm(fresh(), due(), T0);
    const at = FIRST_DEADLINE + 185 * S;
    // Until a window showed the step's split, one window at a time.
    const first = transition(r, due(), at);
    expect(followUp(first, 'measure').window).toEqual({ index: 1, start: T0 + 60 * S, end: T0 + 120 * S });
    r = passWindow(r, at);
    const late = transition(r, due(), at);
    expect(followUp(late, 'measure').window).toEqual({ index: 4, start: T0 + 120 * S, end: T0 + 300 * S });
  });

  it('looks at the next window from 15 s after its end; a window not yet visible stores nothing and says when to look again', () => {
    const r = applyAndConfirm(fresh(), due(), T0);
    expect(transition(r, due(), FIRST_READY - S).followUp).toEqual({ kind: 'none' });
    const window = followUp(transition(r, due(), FIRST_READY), 'measure').window;
    const pending = transition(
      r,
      {
        type: 'windowPending',
        actor: 'workflow',
        window,
        detail: 'canary point(s) ending 12:02:00 not visible yet',
        retryAt: FIRST_READY + 15 * S,
      },
      FIRST_READY,
    );
    expect(pending).toMatchObject({
      kind: 'unchanged',
      retryAt: FIRST_READY + 15 * S,
      followUp: { kind: 'none' },
    });

    expect(reasonOf(pending)).toMatch(
      /window 1: canary point\(s\) ending 12:02:00 not visible yet; looking again at/,
    );
  });

  it('a step judged to the end of its hold moves on rather than wait for a later window to become visible', () => {
    let r = applyAndConfirm(
      fresh([
        { weight: 10, hold: '2m' },
        { weight: 50, hold: '2m' },
      ]),
      due(),
      T0,
    );
    r = passWindow(r, FIRST_READY);
    r = passWindow(r, SECOND_READY);
    const at = T0 + 255 * S;
    const window = followUp(transition(r, due(), at), 'measure').window;
    expect(window.index).toBe(3);
    const pending = {
      type: 'windowPending',
      actor: 'workflow',
      window,
      detail: 'not visible yet',
      retryAt: at + 15 * S,
    } as const;
    const moved = transition(r, pending, at);
    expect(moved.kind === 'changed' && moved.entry.event).toBe('rollout.weights_applying');
    expect(moved.kind === 'changed' && moved.entry.reason).toMatch(
      /held with passing analysis .*window 3, after the hold, is not visible yet/,
    );
  });

  it('scales every request duration by the time scale', () => {
    const { rollout } = createRollout({
      id: 'fast',
      request: request(),
      context: {
        metrics: {
          stable: { preset: 'cloudRun', service: 's' },
          canary: { preset: 'internalLb', backend: 'c' },
        },
        timing: TIMING,
        stalledAfterMs: 900_000,
        timeScale: 20,
      },
      ruleIndex: 0,
      ruleShape: RULE_SHAPE,
      weights: ALL_STABLE,
      now: T0,
      actor: 'test',
    });
    expect(rollout.plan.analysis).toMatchObject({ intervalMs: 3000, settleMs: 1500, ingestionDelayMs: 9000 });
    expect(rollout.plan.steps[0]).toEqual({
      kind: 'weight',
      weights: { stable: 90, canary: 10 },
      holdMs: 6000,
    });
    expect(rollout.plan.steps.at(-1)).toEqual({ kind: 'promote', weights: ALL_CANARY });
  });
});

describe('transition: rollback wins', () => {
  it('rolls back on a failed verdict and ends RolledBack once stable is confirmed', () => {
    let r = applyAndConfirm(fresh(), due(), T0);
    const window = followUp(transition(r, due(), FIRST_READY), 'measure').window;
    const failed = transition(r, verdictInput(window, 'fail'), FIRST_READY);
    r = changed(failed);
    expect(r.status).toMatchObject({ phase: 'RollingBack', cause: { kind: 'verdict' } });
    expect(r.intent).toMatchObject({
      purpose: 'rollback',
      weights: ALL_STABLE,
      previous: { stable: 90, canary: 10 },
    });
    expect(failed.kind === 'changed' && failed.entry.verdict?.verdict).toBe('fail');
    r = changed(transition(r, observed(r), FIRST_READY + S));
    expect(r.status).toMatchObject({ phase: 'RolledBack', cause: { kind: 'verdict' } });
    expect(r.weights).toEqual(ALL_STABLE);
  });

  it('rolls back on an open alert from every non-terminal phase', () => {
    const alert: Input = {
      type: 'alert',
      actor: 'alert:canary-5xx',
      incident: {
        incidentId: 'i1',
        state: 'open',
        policy: 'canary-5xx',
        condition: 'c',
        summary: '5xx high',
      },
    };
    const progressing = applyAndConfirm(fresh(), due(), T0);
    const inFlight = changed(transition(fresh(), due(), T0));
    const paused = changed(
      transition(progressing, { type: 'control', command: 'pause', actor: 'op', note: '' }, T0 + S),
    );
    const promoting = changed(
      transition(progressing, { type: 'control', command: 'promote', actor: 'op', note: '' }, T0 + S),
    );
    for (const r of [fresh(), progressing, inFlight, paused, promoting]) {
      const next = changed(transition(r, alert, T0 + 2 * S));
      expect(next.status).toMatchObject({
        phase: 'RollingBack',
        cause: { kind: 'alert', policy: 'canary-5xx' },
      });
      expect(next.intent?.weights).toEqual(ALL_STABLE);
      expect(reasonOf(transition(next, alert, T0 + 3 * S))).toMatch(/already rolling back/);
    }
  });

  it('supersedes an in-flight step: the late observation of the old change is stale', () => {
    const stepping = changed(transition(fresh(), due(), T0));
    const rolling = changed(
      transition(
        stepping,
        { type: 'control', command: 'abort', actor: 'operator:bo', note: 'bad deploy' },
        T0 + S,
      ),
    );
    expect(reasonOf(transition(rolling, observed(stepping), T0 + 2 * S))).toMatch(/stale/);
    const aborted = changed(transition(rolling, observed(rolling), T0 + 3 * S));
    expect(aborted.status).toEqual({ phase: 'Aborted', actor: 'operator:bo', note: 'bad deploy' });
  });

  it('keeps analysing a paused canary and rolls it back when it fails', () => {
    let r = applyAndConfirm(fresh(), due(), T0);
    r = changed(transition(r, { type: 'control', command: 'pause', actor: 'op', note: 'wait' }, T0 + S));
    const window = followUp(transition(r, due(), FIRST_READY), 'measure').window;
    expect(changed(transition(r, verdictInput(window, 'fail'), FIRST_READY)).status.phase).toBe(
      'RollingBack',
    );
  });

  it('re-applies stable when the route is edited during a rollback', () => {
    let r = applyAndConfirm(fresh(), due(), T0);
    r = changed(transition(r, { type: 'control', command: 'abort', actor: 'op', note: '' }, T0 + S));
    if (r.intent === null) throw new Error('abort records a rollback intent');
    const drift: Input = routeInput(r.intent, { stable: 50, canary: 50 }, true, 'w');
    const again = transition(r, drift, T0 + 2 * S);
    expect(followUp(again, 'applyRoute').intent).toMatchObject({ purpose: 'rollback', attempts: 2 });
  });
});

describe('transition: route changes that fail or drift', () => {
  it('pauses without overwriting a hand edit, and re-applies the step on resume', () => {
    const r = changed(transition(fresh(), due(), T0));
    if (r.intent === null) throw new Error('a step records an intent');
    const drift: Input = routeInput(r.intent, { stable: 70, canary: 30 }, false, 'scheduler');
    const paused = changed(transition(r, drift, T0 + S));
    expect(paused.status).toMatchObject({
      phase: 'Paused',
      reason: { kind: 'drift', detail: expect.stringContaining('route shows stable 70% / canary 30%') },
    });
    expect(paused.intent).toBeNull();
    expect(paused.nextActionAt).toBeNull();
    const resumed = transition(
      paused,
      { type: 'control', command: 'resume', actor: 'op', note: 'fixed' },
      T0 + 2 * S,
    );
    expect(followUp(resumed, 'applyRoute').intent).toMatchObject({
      weights: { stable: 90, canary: 10 },
      overwrite: true,
    });
    expect(r.intent?.overwrite).toBe(false);
  });

  it('retries transient failures with backoff, takes over after the lease, then gives up and rolls back', () => {
    let r = changed(transition(fresh(), due(), T0));
    let now = T0;
    for (let attempt = 1; attempt <= TIMING.maxRouteAttempts; attempt += 1) {
      expect(r.intent?.attempts).toBe(attempt);
      const failed = transition(
        r,
        {
          type: 'routeFailed',
          actor: 'w',
          intentId: r.intent?.id ?? -1,
          error: { kind: 'transient', message: '503' },
        },
        now,
      );
      r = changed(failed);
      if (r.status.phase === 'RollingBack') break;
      const backoff = Math.min(TIMING.retryMaxMs, TIMING.retryBaseMs * 2 ** (attempt - 1));
      expect(r.intent?.leaseUntil).toBe(now + backoff);
      expect(reasonOf(transition(r, due(), now + backoff - 1))).toMatch(/in progress/);
      now += backoff;
      const takeover = transition(r, due('scheduler'), now);
      r = changed(takeover);
      expect(followUp(takeover, 'readRoute').intent.id).toBe(r.intent?.id);
      const again = transition(r, observed(r, 'matchesPrevious'), now);
      r = changed(again);
      if (r.status.phase === 'RollingBack') break;
      expect(followUp(again, 'applyRoute').intent.attempts).toBe(attempt + 1);
    }
    expect(r.status).toMatchObject({ phase: 'RollingBack', cause: { kind: 'routeError' } });
    expect(
      r.status.phase === 'RollingBack' && r.status.cause.kind === 'routeError' && r.status.cause.message,
    ).toMatch(/after 5 attempts/);
  });

  it('rolls back on a refused change and fails when the route is gone', () => {
    const r = changed(transition(fresh(), due(), T0));
    const denied = changed(
      transition(
        r,
        {
          type: 'routeFailed',
          actor: 'w',
          intentId: r.intent?.id ?? -1,
          error: { kind: 'permissionDenied', message: 'no' },
        },
        T0,
      ),
    );
    expect(denied.status.phase).toBe('RollingBack');
    const gone = changed(
      transition(
        denied,
        {
          type: 'routeFailed',
          actor: 'w',
          intentId: denied.intent?.id ?? -1,
          error: { kind: 'notFound', message: 'gone' },
        },
        T0,
      ),
    );
    expect(gone.status).toEqual({ phase: 'Failed', error: 'route not found: gone' });
  });

  it('keeps retrying a rollback through transient failures, however many times', () => {
    let r = changed(transition(fresh(), { type: 'control', command: 'abort', actor: 'op', note: '' }, T0));
    for (let i = 0; i < 20; i += 1) {
      const failed: Input = {
        type: 'routeFailed',
        actor: 'w',
        intentId: r.intent?.id ?? -1,
        error: { kind: 'transient', message: '503' },
      };
      r = changed(transition(r, failed, T0 + i));
      expect(r.status.phase).toBe('RollingBack');
    }
    expect((r.intent?.leaseUntil ?? 0) - (T0 + 19)).toBe(TIMING.retryBaseMs);
  });

  it('says once that a person must act when the API refuses a rollback, and tries again when told', () => {
    let r = changed(transition(fresh(), { type: 'control', command: 'abort', actor: 'op', note: '' }, T0));
    const refused: Input = {
      type: 'routeFailed',
      actor: 'w',
      intentId: r.intent?.id ?? -1,
      error: { kind: 'permissionDenied', message: 'x' },
    };
    const blocked = transition(r, refused, T0 + 1);
    r = changed(blocked);
    expect(r.status).toMatchObject({
      phase: 'ActionRequired',
      problem: { kind: 'refused' },
      routeSeen: null,
      resume: { phase: 'RollingBack', cause: { kind: 'abort' } },
    });
    expect(blocked.kind === 'changed' && blocked.entry.event).toBe('rollout.action_required');
    expect(r.nextActionAt).toBeNull();
    // Nothing retries on its own: a check reads the route and changes nothing; the refusal is not repeated.
    const check = transition(r, due(), T0 + 60 * S);
    expect(reasonOf(check)).toMatch(/waiting for a person/);
    expect(followUp(check, 'readRoute').intent.id).toBe(r.intent?.id);
    expect(reasonOf(transition(r, refused, T0 + 61 * S))).toMatch(/still waiting for a person/);
    expect(
      reasonOf(transition(r, routeInput(r.intent ?? fail(), { stable: 70, canary: 30 }, false), T0 + 62 * S)),
    ).toMatch(/waiting for a person/);
    // An operator resumes: back to RollingBack, reading the route before writing again.
    const resumed = transition(
      r,
      { type: 'control', command: 'resume', actor: 'op', note: 'IAM fixed' },
      T0 + 70 * S,
    );
    expect(changed(resumed).status).toMatchObject({ phase: 'RollingBack' });
    expect(followUp(resumed, 'readRoute').intent.id).toBe(r.intent?.id);
  });
});

describe('transition: windows follow the data plane, not only the allowance', () => {
  const settling = (window: AnalysisWindow, share = 0.02): Input => {
    const split = checkSplit({
      window,
      weights: { stable: 90, canary: 10 },
      canary: { kind: 'data', requests: Math.round(1000 * share), errors: 0, latency: null },
      stable: { kind: 'data', requests: Math.round(1000 * (1 - share)), errors: 0, latency: null },
    });
    if (split.kind !== 'notSeen') throw new Error(`expected the split to be off, got ${split.kind}`);
    return { type: 'windowSettling', actor: 'workflow:e1', window, split };
  };

  const entryReason = (d: ReturnType<typeof transition>): string =>
    d.kind === 'changed' ? d.entry.reason : '';

  it('checks a window against the step weight within a binomial tolerance', () => {
    const window = { index: 1, start: 0, end: 60_000 };
    const reading = (requests: number) => ({ kind: 'data' as const, requests, errors: 0, latency: null });
    const weights = { stable: 90, canary: 10 };
    expect(checkSplit({ window, weights, canary: reading(95), stable: reading(905) }).kind).toBe('seen');
    expect(checkSplit({ window, weights, canary: reading(20), stable: reading(980) }).kind).toBe('notSeen');
    expect(checkSplit({ window, weights, canary: reading(0), stable: reading(8) }).kind).toBe('seen');
    expect(
      checkSplit({ window, weights, canary: { kind: 'noData', reason: 'none' }, stable: reading(500) }).kind,
    ).toBe('notSeen');
    expect(
      checkSplit({
        window,
        weights,
        canary: { kind: 'noData', reason: 'none' },
        stable: { kind: 'noData', reason: 'none' },
      }).kind,
    ).toBe('unknown');
  });

  it('leaves a window that still shows the old split unjudged and judges the next one', () => {
    let r = applyAndConfirm(fresh(), due(), T0);
    const first = followUp(transition(r, due(), FIRST_READY), 'measure').window;
    const skipped = transition(r, settling(first), FIRST_READY);
    expect(entryReason(skipped)).toMatch(
      /window 1 not judged: canary had 2\.0 % of 1000 requests .* 10\.0 %/,
    );
    r = changed(skipped);
    expect(r.analysis).toMatchObject({ windowsSettling: 1, windowsJudged: 0, splitSeen: false });
    expect(reasonOf(transition(r, settling(first), FIRST_READY))).toMatch(/stale/);
    const next = followUp(transition(r, due(), SECOND_READY), 'measure').window;
    expect(next).toEqual({ index: 2, start: T0 + 120 * S, end: T0 + 180 * S });
    r = changed(transition(r, verdictInput(next, 'pass'), SECOND_READY));
    expect(r.analysis).toMatchObject({ windowsSettling: 1, windowsJudged: 1, splitSeen: true });
    // The step (2 m hold from T0) was judged from T0 + 120 s to its end: it completes.
    expect(changed(transition(r, due(), SECOND_READY)).status.phase).toBe('Paused');
  });

  it('reads the route when a window shows another split: a person’s edit pauses as drift, the rollout’s own split waits', () => {
    let r = applyAndConfirm(fresh(), due(), T0);
    const skipped = transition(
      r,
      settling(followUp(transition(r, due(), FIRST_READY), 'measure').window),
      FIRST_READY,
    );
    expect(followUp(skipped, 'inspectRoute').route).toBe(r.spec.route);
    r = changed(skipped);
    const inspect = (weights: { stable: number; canary: number }): Input => ({
      type: 'routeInspected',
      actor: 'workflow:e1',
      route: routeShowing(weights),
    });
    expect(reasonOf(transition(r, inspect({ stable: 90, canary: 10 }), FIRST_READY))).toMatch(
      /clients have not all caught up/,
    );
    const edited = transition(r, inspect({ stable: 75, canary: 25 }), FIRST_READY);
    expect(changed(edited).status).toMatchObject({
      phase: 'Paused',
      reason: { kind: 'drift' },
      resume: 'applyStep',
    });
    expect(entryReason(edited)).toMatch(
      /route shows stable 75% \/ canary 25%; the rollout set stable 90% \/ canary 10%/,
    );
  });

  it('pauses once when the split never shows, and resuming accepts it', () => {
    let r = applyAndConfirm(
      newRollout('stuck', { analysis: { inconclusiveLimit: 2 } }, T0).rollout,
      due(),
      T0,
    );
    r = changed(
      transition(r, settling(followUp(transition(r, due(), FIRST_READY), 'measure').window), FIRST_READY),
    );
    const paused = transition(
      r,
      settling(followUp(transition(r, due(), SECOND_READY), 'measure').window),
      SECOND_READY,
    );
    r = changed(paused);
    expect(r.status).toMatchObject({ phase: 'Paused', reason: { kind: 'splitNotLive', windows: 2 } });
    expect(entryReason(paused)).toMatch(/propagation stalled\?.*resume to accept the split/);
    r = changed(
      transition(
        r,
        { type: 'control', command: 'resume', actor: 'operator:ann', note: 'other traffic' },
        SECOND_READY,
      ),
    );
    expect(r.analysis.splitSeen).toBe(true);
  });

  it('an operator promotion says which traffic no window judged', () => {
    const r = applyAndConfirm(fresh(), due(), T0);
    const promoted = transition(
      r,
      { type: 'control', command: 'promote', actor: 'operator:ann', note: 'ship' },
      T0 + 90 * S,
    );
    expect(entryReason(promoted)).toMatch(
      /traffic since 2026-11-23T12:00:00.000Z was not judged \(promoted by a person/,
    );
  });
});

describe('transition: analysis outcomes', () => {
  it('pauses after the inconclusive limit and continues on resume', () => {
    let r = applyAndConfirm(fresh(), due(), T0);
    let now = FIRST_READY;
    for (let i = 1; i <= 10; i += 1) {
      const window = followUp(transition(r, due(), now), 'measure').window;
      r = changed(transition(r, verdictInput(window, 'inconclusive', 0), now));
      now += 60 * S;
    }
    expect(r.status).toMatchObject({
      phase: 'Paused',
      reason: { kind: 'inconclusive', windows: 10 },
      resume: 'continue',
    });
    r = changed(
      transition(r, { type: 'control', command: 'resume', actor: 'op', note: 'metrics fixed' }, now),
    );
    expect(r.status).toEqual({ phase: 'Progressing', step: 0 });
    expect(r.analysis.inconclusiveStreak).toBe(0);
  });

  it('ignores stale and duplicate verdicts with a reason', () => {
    let r = applyAndConfirm(fresh(), due(), T0);
    const window = followUp(transition(r, due(), FIRST_READY), 'measure').window;
    r = changed(transition(r, verdictInput(window, 'pass'), FIRST_READY));
    expect(reasonOf(transition(r, verdictInput(window, 'fail'), FIRST_READY))).toMatch(/stale/);
    const elsewhere = { ...window, index: 2, start: window.start + 1 };
    expect(reasonOf(transition(r, verdictInput(elsewhere, 'fail'), FIRST_READY))).toMatch(/stale/);
    expect(nextWindowDueAt(r)).toBe(FIRST_READY + 60 * S);
  });
});

describe('transition: operator controls and terminal phases', () => {
  it('promotes at once from a gate, pauses only what can pause, aborts from anywhere not terminal', () => {
    const at = changed(transition(fresh([{ gate: 'manual' }, { weight: 10, hold: '1m' }]), due(), T0));
    expect(at.status.phase).toBe('Paused');
    const promoted = transition(
      at,
      { type: 'control', command: 'promote', actor: 'op', note: 'ship it' },
      T0 + S,
    );
    expect(followUp(promoted, 'applyRoute').intent).toMatchObject({
      purpose: 'promote',
      weights: ALL_CANARY,
    });
    const promoting = changed(promoted);
    expect(
      reasonOf(
        transition(promoting, { type: 'control', command: 'pause', actor: 'op', note: '' }, T0 + 2 * S),
      ),
    ).toMatch(/cannot pause while Promoting/);
    expect(
      reasonOf(transition(at, { type: 'control', command: 'pause', actor: 'op', note: '' }, T0 + 2 * S)),
    ).toBe('already paused');
    expect(
      reasonOf(transition(at, { type: 'control', command: 'retry', actor: 'op', note: '' }, T0)),
    ).toMatch(/only a finished rollout/);
  });

  it('never changes a terminal rollout and plans a retry as a new rollout', () => {
    let r = changed(transition(fresh(), { type: 'control', command: 'abort', actor: 'op', note: 'x' }, T0));
    r = changed(transition(r, observed(r), T0 + S));
    const inputs: Input[] = [
      due(),
      { type: 'start', actor: 'a' },
      { type: 'control', command: 'resume', actor: 'op', note: '' },
      { type: 'control', command: 'retry', actor: 'op', note: '' },
      {
        type: 'alert',
        actor: 'a',
        incident: { incidentId: 'i', state: 'open', policy: 'p', condition: 'c', summary: 's' },
      },
      { type: 'driverAttached', actor: 'a', execution: 'e' },
    ];
    for (const input of inputs) {
      const d = transition(r, input, T0 + 2 * S);
      expect(reasonOf(d)).toMatch(/terminal phases never change/);
      expect(d.followUp).toEqual({ kind: 'none' });
    }
    const retry = planRetry(r);
    expect(retry).toMatchObject({ ok: true, id: 'r1-retry2', attempt: 2 });
    const again = retry.ok ? planRetry({ ...r, id: retry.id, attempt: 2, retryOf: 'r1' }) : retry;
    expect(again).toMatchObject({ ok: true, id: 'r1-retry3', attempt: 3 });
    expect(planRetry(fresh())).toMatchObject({ ok: false });
  });

  it('keeps the first execution attached: another one is told to stop, and only the first drives', () => {
    const attached = changed(
      transition(fresh(), { type: 'driverAttached', actor: 'start', execution: 'p/w/executions/one' }, T0),
    );
    expect(
      reasonOf(
        transition(attached, { type: 'driverAttached', actor: 'start', execution: 'p/w/executions/two' }, T0),
      ),
    ).toMatch(/executions\/one already drives this rollout; p\/w\/executions\/two is told to stop/);
    // Compared by execution id: the API may name the project by number where the caller names it by id.
    expect(executionDrives(attached, 'projects/123/locations/l/workflows/w/executions/one')).toBe(true);
    expect(executionDrives(attached, 'projects/p/locations/l/workflows/w/executions/two')).toBe(false);
    expect(executionDrives(fresh(), 'anything')).toBe(true);
    expect(executionDrives(newRollout('s', { driver: 'scheduler' }, T0).rollout, 'x')).toBe(false);
  });

  it('records the workflow execution once and refuses it for scheduler-driven rollouts', () => {
    const r = fresh();
    const attached = changed(
      transition(r, { type: 'driverAttached', actor: 'start', execution: 'ex/1' }, T0),
    );
    expect(attached.driver).toEqual({ kind: 'workflow', execution: 'ex/1' });
    expect(
      reasonOf(transition(attached, { type: 'driverAttached', actor: 'start', execution: 'ex/1' }, T0)),
    ).toMatch(/already attached/);
    const scheduled = newRollout('s', { driver: 'scheduler' }, T0).rollout;
    expect(
      reasonOf(transition(scheduled, { type: 'driverAttached', actor: 'x', execution: 'e' }, T0)),
    ).toMatch(/scheduler/);
  });

  it('answers an unknown input with an explicit no-op', () => {
    const bogus = { type: 'teleport', actor: 'x' } as unknown as Input;
    expect(reasonOf(transition(fresh(), bogus, T0))).toBe('unknown input "teleport"');
  });
});
