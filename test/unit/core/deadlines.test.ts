import { describe, expect, it } from 'vitest';
import type { Decision } from '../../../functions/core/decision.ts';
import type { Input } from '../../../functions/core/inputs.ts';
import type { RolloutRequestInput } from '../../../functions/core/request.ts';
import { computeNextActionAt, nextWindowDueAt } from '../../../functions/core/schedule.ts';
import type { HistoryEntry, Rollout } from '../../../functions/core/state.ts';
import { transition } from '../../../functions/core/transition.ts';
import { ALL_STABLE } from '../../../functions/core/weights.ts';
import {
  applyAndConfirm,
  changed,
  due,
  followUp,
  judgement,
  reasonOf,
  routeInput,
  routeShowing,
} from '../../support/drive.ts';
import { backendName, newRollout } from '../../support/fixtures.ts';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const S = 1000;
const MIN = 60 * S;

const WEIGHT_FIRST = [{ weight: 10, hold: '2m' }, { gate: 'manual' as const }, { weight: 50, hold: '2m' }];
const GATE_FIRST = [
  { gate: 'manual' as const, note: 'look first' },
  { weight: 10, hold: '2m' },
];

function rollout(overrides: Partial<RolloutRequestInput>, steps = WEIGHT_FIRST): Rollout {
  return newRollout('dl', { steps, ...overrides }, T0).rollout;
}

/** Live at the first weight step (10 %), confirmed at T0. */
function live(overrides: Partial<RolloutRequestInput>): Rollout {
  return applyAndConfirm(rollout(overrides), due(), T0);
}

/** Paused at the manual gate that is the first step (no canary traffic), paused at T0. */
function atGate(overrides: Partial<RolloutRequestInput>): Rollout {
  return changed(transition(rollout(overrides, GATE_FIRST), due(), T0));
}

function entryOf(d: Decision): HistoryEntry {
  if (d.kind !== 'changed') throw new Error(`expected a change, got unchanged: ${d.reason}`);
  return d.entry;
}

/** The rollback's route write reported done: the route shows stable only. */
function confirmed(r: Rollout, at: number): Rollout {
  if (r.intent === null) throw new Error('expected a route change in flight');
  return changed(transition(r, routeInput(r.intent, ALL_STABLE), at));
}

const pauseCommand: Input = { type: 'control', command: 'pause', actor: 'operator:ann', note: 'look' };
const resumeCommand: Input = { type: 'control', command: 'resume', actor: 'operator:ann', note: 'ok' };

describe('deadline: the longest the whole rollout may take', () => {
  it('rollback: rolls back like a failed verdict (rollback write, overwrite) and ends RolledBack', () => {
    const r = live({ deadline: { after: '10m', action: 'rollback' } });
    expect(reasonOf(transition(r, due(), T0 + 10 * MIN - S))).not.toMatch(/deadline/);
    const d = transition(r, due(), T0 + 10 * MIN);
    const entry = entryOf(d);
    expect(entry).toMatchObject({ event: 'rollout.rolling_back', actor: 'deadline' });
    expect(entry.reason).toMatch(/deadline \(10m from its creation.*passed while step 1 of 3; rolling back/);
    const rolling = changed(d);
    expect(rolling.status).toMatchObject({
      phase: 'RollingBack',
      cause: { kind: 'deadline', which: 'deadline' },
    });
    expect(followUp(d, 'applyRoute').request).toMatchObject({ mode: 'rollback', precondition: null });
    const done = confirmed(rolling, T0 + 10 * MIN + S);
    expect(done.status).toMatchObject({ phase: 'RolledBack', cause: { kind: 'deadline' } });
    expect(done.weights).toEqual(ALL_STABLE);
  });

  it('abort: takes the operator abort path with actor "deadline" and ends Aborted once the canary is out', () => {
    const r = live({ deadline: { after: '10m', action: 'abort' } });
    const d = transition(r, due(), T0 + 11 * MIN);
    expect(entryOf(d)).toMatchObject({ event: 'rollout.rolling_back', actor: 'deadline' });
    const rolling = changed(d);
    expect(rolling.status).toMatchObject({
      phase: 'RollingBack',
      cause: { kind: 'abort', actor: 'deadline' },
    });
    // Not Aborted before the route shows the canary out.
    expect(rolling.status.phase).toBe('RollingBack');
    const done = confirmed(rolling, T0 + 11 * MIN + S);
    expect(done.status).toMatchObject({ phase: 'Aborted', actor: 'deadline' });
  });

  it('notify: one rollout.deadline_passed, the rollout goes on, never reported again', () => {
    const r = live({ deadline: { after: '10m', action: 'notify' } });
    const d = transition(r, due(), T0 + 10 * MIN);
    expect(entryOf(d)).toMatchObject({ event: 'rollout.deadline_passed', actor: 'deadline' });
    const notified = changed(d);
    expect(notified.status).toEqual(r.status);
    expect(notified.weights).toEqual(r.weights);
    expect(notified.deadlines?.deadlinePassedAt).toBe(T0 + 10 * MIN);
    // It goes on with what is due (the analysis window), and the deadline no longer wakes anyone.
    expect(followUp(transition(notified, due(), T0 + 10 * MIN + S), 'measure').window.index).toBe(1);
    expect(notified.nextActionAt).toBe(nextWindowDueAt(notified));
    for (let t = T0 + 10 * MIN + S; t < T0 + 60 * MIN; t += 30 * S) {
      const again = transition(notified, due(), t);
      if (again.kind === 'changed') expect(again.entry.event).not.toBe('rollout.deadline_passed');
    }
  });

  it('while rolling back already: nothing to add (rollback wins), and nothing once terminal', () => {
    const r = live({ deadline: { after: '10m', action: 'notify' } });
    const abort: Input = { type: 'control', command: 'abort', actor: 'operator:ann', note: 'stop' };
    const rolling = changed(transition(r, abort, T0 + 9 * MIN));
    expect(computeNextActionAt(rolling)).toBe(rolling.intent?.leaseUntil);
    expect(reasonOf(transition(rolling, due(), T0 + 9 * MIN + 30 * S))).toMatch(/in progress/);
    const done = confirmed(rolling, T0 + 9 * MIN + 40 * S);
    expect(done.status.phase).toBe('Aborted');
    expect(done.nextActionAt).toBeNull();
    expect(reasonOf(transition(done, due(), T0 + 20 * MIN))).toMatch(/terminal/);
  });

  it('while a person must fix the route: rolls back once; a refused rollback waits for the person, no loop', () => {
    const started = changed(
      transition(rollout({ deadline: { after: '10m', action: 'rollback' } }), due(), T0),
    );
    const intent = started.intent;
    if (intent === null) throw new Error('expected the first step in flight');
    // A person deleted the managed rule: the controller cannot shift the route safely.
    const gone: Input = {
      type: 'routeObserved',
      actor: 'workflow:e1',
      intent,
      written: false,
      route: { ...routeShowing(ALL_STABLE, [backendName('manual')]), rules: [] },
      pending: [],
    };
    const waiting = changed(transition(started, gone, T0 + S));
    expect(waiting.status).toMatchObject({
      phase: 'ActionRequired',
      problem: { kind: 'ruleGone' },
      resume: { phase: 'Progressing' },
    });
    // The deadline wakes the drivers although only a person can move the route.
    expect(waiting.nextActionAt).toBe(T0 + 10 * MIN);
    const d = transition(waiting, due(), T0 + 10 * MIN);
    expect(entryOf(d).event).toBe('rollout.rolling_back');
    const rolling = changed(d);
    const refused: Input = {
      type: 'routeFailed',
      actor: 'workflow:e1',
      intentId: rolling.intent?.id ?? -1,
      error: { kind: 'permissionDenied', message: 'no permission' },
    };
    const blocked = changed(transition(rolling, refused, T0 + 10 * MIN + S));
    expect(blocked.status).toMatchObject({ phase: 'ActionRequired', resume: { phase: 'RollingBack' } });
    expect(blocked.nextActionAt).toBeNull();
    for (let t = T0 + 11 * MIN; t < T0 + 120 * MIN; t += 5 * MIN) {
      expect(transition(blocked, due(), t).kind).toBe('unchanged');
    }
  });
});

describe('gateTimeout: the longest a pause may wait for a person', () => {
  it('wakes the drivers at the timeout of a pause that otherwise waits for a person only', () => {
    expect(atGate({}).nextActionAt).toBeNull();
    const gated = atGate({ gateTimeout: { after: '30m', action: 'notify' } });
    expect(gated.status).toMatchObject({ phase: 'Paused', reason: { kind: 'gate' }, since: T0 });
    expect(gated.nextActionAt).toBe(T0 + 30 * MIN);
  });

  it('notify at a gate: one rollout.gate_timed_out per pause, the rollout stays paused', () => {
    const gated = atGate({ gateTimeout: { after: '30m', action: 'notify' } });
    expect(reasonOf(transition(gated, due(), T0 + 30 * MIN - S))).toMatch(/manual gate/);
    const d = transition(gated, due(), T0 + 30 * MIN);
    expect(entryOf(d)).toMatchObject({ event: 'rollout.gate_timed_out', actor: 'gateTimeout' });
    expect(entryOf(d).reason).toMatch(/paused since .* for longer than the gate timeout \(30m\)/);
    const notified = changed(d);
    expect(notified.status).toEqual(gated.status);
    expect(notified.nextActionAt).toBeNull();
    for (let t = T0 + 31 * MIN; t < T0 + 300 * MIN; t += 10 * MIN) {
      expect(reasonOf(transition(notified, due(), t))).toMatch(/paused/);
    }
  });

  it('rollback at a gate: RollingBack with cause gateTimeout, RolledBack once the route is stable', () => {
    const gated = atGate({ gateTimeout: { after: '30m', action: 'rollback' } });
    const rolling = changed(transition(gated, due(), T0 + 31 * MIN));
    expect(rolling.status).toMatchObject({
      phase: 'RollingBack',
      cause: { kind: 'deadline', which: 'gateTimeout' },
    });
    expect(confirmed(rolling, T0 + 32 * MIN).status.phase).toBe('RolledBack');
  });

  it('abort at a gate: the operator abort path with actor "gateTimeout", ending Aborted', () => {
    const gated = atGate({ gateTimeout: { after: '30m', action: 'abort' } });
    const d = transition(gated, due(), T0 + 30 * MIN);
    expect(entryOf(d).actor).toBe('gateTimeout');
    const done = confirmed(changed(d), T0 + 31 * MIN);
    expect(done.status).toMatchObject({ phase: 'Aborted', actor: 'gateTimeout' });
  });

  it("an operator's pause times out too, once per pause: a new pause is timed afresh", () => {
    const r = live({ gateTimeout: { after: '20m', action: 'notify' } });
    const paused = changed(transition(r, pauseCommand, T0 + 10 * S));
    expect(paused.status).toMatchObject({ phase: 'Paused', since: T0 + 10 * S });
    // The paused canary is still analysed: the next window comes before the timeout.
    expect(paused.nextActionAt).toBe(nextWindowDueAt(paused));
    const timedOut = changed(transition(paused, due(), T0 + 10 * S + 20 * MIN));
    expect(timedOut.deadlines?.gateTimedOutFor).toBe(T0 + 10 * S);
    expect(changed(transition(paused, due(), T0 + 10 * S + 20 * MIN)).version).toBe(timedOut.version);
    const resumed = changed(transition(timedOut, resumeCommand, T0 + 21 * MIN));
    expect(resumed.status.phase).toBe('Progressing');
    const again = changed(transition(resumed, pauseCommand, T0 + 22 * MIN));
    const d = transition(again, due(), T0 + 42 * MIN);
    expect(entryOf(d).event).toBe('rollout.gate_timed_out');
  });

  it('rollback on an operator pause rolls back the live canary', () => {
    const r = live({ gateTimeout: { after: '20m', action: 'rollback' } });
    const paused = changed(transition(r, pauseCommand, T0 + 10 * S));
    const d = transition(paused, due(), T0 + 10 * S + 20 * MIN);
    expect(changed(d).status).toMatchObject({ phase: 'RollingBack', cause: { kind: 'deadline' } });
    expect(followUp(d, 'applyRoute').request.mode).toBe('rollback');
  });

  it('the deadline comes before the gate timeout when both are due', () => {
    const gated = atGate({
      deadline: { after: '10m', action: 'abort' },
      gateTimeout: { after: '5m', action: 'notify' },
    });
    expect(gated.nextActionAt).toBe(T0 + 5 * MIN);
    const d = transition(gated, due(), T0 + 60 * MIN);
    expect(entryOf(d)).toMatchObject({ event: 'rollout.rolling_back', actor: 'deadline' });
  });
});

describe('stalled: work overdue with no progress recorded', () => {
  /**
   * A driver comes by every `every` ms from `from` to `to`, but the work it is given (measuring a
   * window) always fails before anything is stored — what Monitoring being unreachable does.
   */
  function failingDriver(r: Rollout, from: number, to: number, every: number): HistoryEntry[] {
    const entries: HistoryEntry[] = [];
    let current = r;
    for (let t = from; t <= to; t += every) {
      const d = transition(current, due(), t);
      if (d.kind === 'changed') {
        entries.push(d.entry);
        current = d.rollout;
        // The same run goes on with what is due: the measurement (which fails again).
        expect(followUp(transition(current, due(), t), 'measure').window.index).toBe(1);
      } else {
        expect(d.followUp.kind).toBe('measure');
      }
    }
    return entries;
  }

  it('reports once per stalledAfter however often drivers come by, naming what is overdue since when', () => {
    const r = live({ stalledAfter: '5m' });
    const from = T0 + 135 * S;
    const to = T0 + 60 * MIN;
    const entries = failingDriver(r, from, to, 7 * S);
    expect(entries.every((e) => e.event === 'rollout.stalled')).toBe(true);
    expect(entries.length).toBeGreaterThanOrEqual(Math.floor((to - from) / (5 * MIN)) - 1);
    expect(entries.length).toBeLessThanOrEqual((to - from) / (5 * MIN) + 1);
    for (const [a, b] of entries.slice(1).map((e, i) => [entries[i], e] as const)) {
      expect((b?.at ?? 0) - (a?.at ?? 0)).toBeGreaterThanOrEqual(5 * MIN);
    }
    // Window 1's points must all be visible by T0 + 300 s: overdue from then.
    const due1 = new Date(T0 + 300 * S).toISOString();
    expect(entries[0]?.reason).toMatch(
      new RegExp(`analysis window 1 of step 1 of 3 is \\d+ (s|min) overdue \\(due ${due1}`),
    );
    expect(entries.at(-1)?.reason).toMatch(new RegExp(`is \\d+ min overdue \\(due ${due1}`));
    expect(entries[0]?.at).toBeGreaterThan(T0 + 600 * S);
  });

  it('counts afresh once a driver records progress', () => {
    const r = live({ stalledAfter: '5m' });
    const stalled = changed(transition(r, due(), T0 + 11 * MIN));
    expect(stalled.deadlines?.stalled).toEqual({ since: T0 + 300 * S, reportedAt: T0 + 11 * MIN });
    const w = followUp(transition(stalled, due(), T0 + 11 * MIN), 'measure').window;
    const judged = changed(
      transition(
        stalled,
        {
          type: 'verdict',
          actor: 'workflow:e1',
          window: w,
          judgement: judgement('pass'),
        },
        T0 + 11 * MIN,
      ),
    );
    expect(judged.analysis.windowsJudged).toBeGreaterThan(0);
    // Nothing overdue any more right after the catch-up.
    const next = transition(judged, due(), T0 + 11 * MIN + S);
    if (next.kind === 'changed') expect(next.entry.event).not.toBe('rollout.stalled');
  });

  it('a pause waiting for a person is not stalled, nor a rollout waiting for a person to fix the route', () => {
    const gated = atGate({ stalledAfter: '1m' });
    for (let t = T0; t < T0 + 600 * MIN; t += 13 * MIN) {
      expect(reasonOf(transition(gated, due(), t))).toMatch(/manual gate/);
    }
  });

  it('uses the controller default when the request has no stalledAfter', () => {
    const r = live({});
    expect(r.plan.stalledAfterMs).toBe(900_000);
    expect(transition(r, due(), T0 + 300 * S + 15 * MIN).kind).toBe('unchanged');
    expect(entryOf(transition(r, due(), T0 + 300 * S + 15 * MIN + S)).event).toBe('rollout.stalled');
  });
});

describe('plan: deadlines normalised like holds', () => {
  it('scales deadline, gateTimeout and stalledAfter by the time scale and keeps the actions', () => {
    const r = rollout({
      deadline: { after: '2h', action: 'abort' },
      gateTimeout: { after: '30m' },
      stalledAfter: '10m',
    });
    expect(r.plan).toMatchObject({
      deadline: { afterMs: 2 * 3600 * S, action: 'abort' },
      gateTimeout: { afterMs: 30 * MIN, action: 'notify' },
      stalledAfterMs: 10 * MIN,
    });
    expect(rollout({}).plan).toMatchObject({ deadline: null, gateTimeout: null });
  });
});
