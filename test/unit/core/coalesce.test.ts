/**
 * Repeated inputs that change nothing are not recorded (core/transition/coalesce.ts): a closed
 * incident is recorded once and only for the incident recorded open; a paused rollout's
 * inconclusive windows are measured together until the verdict changes or they span
 * COALESCED_WINDOWS windows, and the driver is told when to look again.
 */
import { describe, expect, it } from 'vitest';
import type { AnalysisWindow, Verdict } from '../../../functions/core/analysis/verdict.ts';
import type { Decision } from '../../../functions/core/decision.ts';
import type { IncidentInput, Input } from '../../../functions/core/inputs.ts';
import { expectedWindow, windowDeadline } from '../../../functions/core/schedule.ts';
import type { Rollout } from '../../../functions/core/state.ts';
import { COALESCED_WINDOWS } from '../../../functions/core/transition/coalesce.ts';
import { overdueSince } from '../../../functions/core/transition/stalled.ts';
import { transition } from '../../../functions/core/transition.ts';
import { applyAndConfirm, changed, due, followUp, reasonOf, verdictInput } from '../../support/drive.ts';
import { newRollout } from '../../support/fixtures.ts';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const MINUTE = 60_000;
const POLICY = '5xx ratio of checkout-canary';

function alert(incidentId: string, state: IncidentInput['state']): Input {
  const incident = { incidentId, state, policy: POLICY, condition: 'c', summary: `${state} ${incidentId}` };
  return { type: 'alert', actor: `alert:${POLICY}`, incident };
}

/** Applies `input` `times` times, returning the rollout and how many decisions changed it. */
function repeat(r: Rollout, input: Input, times: number, now: number): { r: Rollout; changes: number } {
  let current = r;
  let changes = 0;
  for (let i = 0; i < times; i += 1) {
    const d = transition(current, input, now + i);
    if (d.kind === 'changed') {
      current = d.rollout;
      changes += 1;
    }
  }
  return { r: current, changes };
}

describe('closed incidents', () => {
  const progressing = () => applyAndConfirm(newRollout('r1', {}, T0).rollout, due(), T0);

  it('a close of an incident never recorded open changes nothing, however often it comes', () => {
    const r = progressing();
    expect(reasonOf(transition(r, alert('forged', 'closed'), T0))).toMatch(/never recorded it open/);
    const distinct = Array.from({ length: 500 }, (_, i) => alert(`forged-${i}`, 'closed'));
    expect(distinct.filter((input) => transition(r, input, T0).kind === 'changed')).toEqual([]);
    expect(repeat(r, alert('forged', 'closed'), 500, T0).changes).toBe(0);
  });

  it('the close of the incident that rolled the rollout back is recorded once, then never again', () => {
    const rollingBack = changed(transition(progressing(), alert('i-1', 'open'), T0));
    expect(rollingBack.status.phase).toBe('RollingBack');
    expect(rollingBack.lastAlert).toMatchObject({ incidentId: 'i-1', state: 'open' });
    const closed = transition(rollingBack, alert('i-1', 'closed'), T0 + MINUTE);
    expect(closed.kind === 'changed' ? closed.entry.event : null).toBe('rollout.alert_closed');
    const { r, changes } = repeat(rollingBack, alert('i-1', 'closed'), 1000, T0 + MINUTE);
    expect(changes).toBe(1);
    expect(r.lastAlert).toMatchObject({ incidentId: 'i-1', state: 'closed' });
    expect(reasonOf(transition(r, alert('i-1', 'closed'), T0 + 2 * MINUTE))).toMatch(
      /recorded closed already/,
    );
    // Another incident's close (it opened while rolling back, so it was never recorded) changes nothing.
    expect(reasonOf(transition(rollingBack, alert('i-2', 'closed'), T0))).toMatch(/never recorded/);
  });
});

/** A rollout paused after `inconclusiveLimit` inconclusive windows (no data), and the time. */
function pausedInconclusive(): { r: Rollout; now: number } {
  let r = applyAndConfirm(newRollout('r1', { analysis: { inconclusiveLimit: 3 } }, T0).rollout, due(), T0);
  let now = T0 + 5 * MINUTE;
  while (r.status.phase !== 'Paused') {
    const window = followUp(transition(r, due(), now), 'measure').window;
    r = changed(transition(r, verdictInput(window, 'inconclusive', 0), now));
    now += MINUTE;
  }
  expect(r.status).toMatchObject({ phase: 'Paused', reason: { kind: 'inconclusive' } });
  return { r, now };
}

/** The due window at `now` and the decision on a `verdict` for it. */
function judge(r: Rollout, now: number, verdict: Verdict): { window: AnalysisWindow; d: Decision } {
  const window = followUp(transition(r, due(), now), 'measure').window;
  return {
    window,
    d: transition(r, verdictInput(window, verdict, verdict === 'inconclusive' ? 0 : 100), now),
  };
}

describe('windows of a paused rollout', () => {
  it('an inconclusive window again is not recorded; the driver looks again once the next window is readable', () => {
    const { r, now } = pausedInconclusive();
    const { window, d } = judge(r, now + 10 * MINUTE, 'inconclusive');
    expect(d.kind).toBe('unchanged');
    expect(reasonOf(d)).toMatch(/inconclusive again while paused/);
    const retryAt = d.kind === 'unchanged' ? d.retryAt : undefined;
    expect(retryAt).toBe(windowDeadline(r, { end: window.end + r.plan.analysis.intervalMs }));
    // The next look measures the unrecorded windows together with the next one: nothing is skipped.
    const next = followUp(transition(r, due(), retryAt ?? 0), 'measure').window;
    expect(next.start).toBe(window.start);
    expect(next.index).toBe(window.index + 1);
  });

  it(`1,000 inconclusive windows add at most ⌈1000/${COALESCED_WINDOWS}⌉ entries, each covering its windows`, () => {
    let { r, now } = pausedInconclusive();
    const recorded: AnalysisWindow[] = [];
    const startIndex = r.analysis.windowsJudged + r.analysis.windowsSettling;
    let last = startIndex;
    while (last < startIndex + 1000) {
      now += MINUTE;
      const { window, d } = judge(r, now, 'inconclusive');
      last = window.index;
      if (d.kind === 'changed') {
        expect(d.entry.event).toBe('rollout.analysis');
        recorded.push(window);
        r = d.rollout;
      }
    }
    expect(recorded.length).toBeLessThanOrEqual(Math.ceil(1000 / COALESCED_WINDOWS));
    expect(recorded.length).toBeGreaterThan(0);
    // Every window is covered by exactly one recorded measurement (nothing skipped, nothing twice).
    for (const [i, w] of recorded.entries()) {
      const previousEnd = i === 0 ? null : (recorded[i - 1] as AnalysisWindow).end;
      if (previousEnd !== null) expect(w.start).toBe(previousEnd);
      expect(w.end - w.start).toBe(COALESCED_WINDOWS * r.plan.analysis.intervalMs);
    }
    expect(r.status.phase).toBe('Paused');
  });

  it('a pass is recorded (every time: it is evidence), a failing canary is rolled back at once', () => {
    const { r, now } = pausedInconclusive();
    const passed = judge(r, now + 3 * MINUTE, 'pass');
    expect(passed.d.kind === 'changed' ? passed.d.entry.event : null).toBe('rollout.analysis');
    const afterPass = changed(passed.d);
    const again = judge(afterPass, now + 4 * MINUTE, 'pass');
    expect(again.d.kind).toBe('changed');
    // After a pass, the first inconclusive window is recorded (a change); the next one is not.
    const quiet = changed(judge(changed(again.d), now + 5 * MINUTE, 'inconclusive').d);
    const coalesced = judge(quiet, now + 6 * MINUTE, 'inconclusive');
    expect(coalesced.d.kind).toBe('unchanged');
    const failed = judge(quiet, now + 8 * MINUTE, 'fail');
    expect(changed(failed.d).status).toMatchObject({ phase: 'RollingBack', cause: { kind: 'verdict' } });
    // The failing measurement covers every window since the last recorded one.
    expect(failed.window.start).toBe(coalesced.window.start);
    expect(failed.window.index).toBeGreaterThan(coalesced.window.index);
  });

  it('is not reported stalled while its windows are coalesced, but is once the span is overdue', () => {
    const { r } = pausedInconclusive();
    const next = expectedWindow(r);
    const interval = r.plan.analysis.intervalMs;
    const spanDue = windowDeadline(r, { end: next.end + (COALESCED_WINDOWS - 1) * interval });
    expect(overdueSince(r)).toBe(spanDue);
    const stalledAfter = r.plan.stalledAfterMs ?? 0;
    expect(stalledAfter).toBeGreaterThan(0);
    // Past the point where the next window alone would have counted as stalled: measured, not reported.
    const early = transition(r, due('scheduler'), windowDeadline(r, next) + stalledAfter + MINUTE);
    expect(early.kind).toBe('unchanged');
    expect(early.followUp.kind).toBe('measure');
    const late = transition(r, due('scheduler'), spanDue + stalledAfter + MINUTE);
    expect(late.kind === 'changed' ? late.entry.event : null).toBe('rollout.stalled');
  });
});
