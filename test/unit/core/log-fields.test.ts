/**
 * The `rollout` object of a committed change's log line (functions/core/log-fields.ts): only
 * what the change and the rollout show, numbers as numbers, no free text, bounded.
 */
import { describe, expect, it } from 'vitest';
import { rolloutLogFields } from '../../../functions/core/log-fields.ts';
import type { HistoryEntry, Rollout, Status } from '../../../functions/core/state.ts';
import { grpcRouteName, newRelease, newRollout, routeName } from '../../support/fixtures.ts';

const { rollout: created, entry: createdEntry } = newRollout('r1');

function change(status: Status, entry: Partial<HistoryEntry>): [Rollout, HistoryEntry] {
  const weights = { stable: 90, canary: 10 };
  const rollout: Rollout = { ...created, status, weights, version: 5 };
  const step = 'step' in status ? status.step : null;
  const to = { phase: status.phase, step, weights };
  return [rollout, { ...createdEntry, version: 5, to, ...entry }];
}

const window = { index: 3, start: 0, end: 60_000 };

describe('rolloutLogFields', () => {
  it('a creation: id, event, phase, routes and the split, nothing it does not know', () => {
    const fields = rolloutLogFields(created, createdEntry);
    expect(fields).toEqual({
      id: 'r1',
      event: 'rollout.created',
      phase: 'Pending',
      version: createdEntry.version,
      route: 'checkout',
      routes: ['checkout'],
      canaryWeight: 0,
      stableWeight: 100,
    });
    // Round-trips through JSON unchanged: no undefined, no NaN.
    expect(JSON.parse(JSON.stringify(fields))).toEqual(fields);
  });

  it('a judged window: verdict, window and its evidence as finite numbers; text, null and NaN left out', () => {
    const evidence = {
      eValue: 442,
      eValueThreshold: 100,
      canaryErrorRatio: 0.3,
      stableErrorRatio: null,
      canaryRequests: 1000,
      stableRequests: Number.NaN,
      reasons: 'free text a judge wrote',
    };
    const [r, e] = change(
      { phase: 'Progressing', step: 1 },
      {
        event: 'rollout.analysis',
        verdict: { verdict: 'inconclusive', summary: 's', window, evidence },
      },
    );
    expect(rolloutLogFields(r, e)).toEqual({
      id: 'r1',
      event: 'rollout.analysis',
      phase: 'Progressing',
      version: 5,
      step: 1,
      route: 'checkout',
      routes: ['checkout'],
      canaryWeight: 10,
      stableWeight: 90,
      verdict: 'inconclusive',
      window: 3,
      eValue: 442,
      eValueThreshold: 100,
      canaryErrorRatio: 0.3,
      canaryRequests: 1000,
    });
  });

  it('a rollback names its cause by kind, never its summary', () => {
    const cause = { kind: 'alert', incidentId: 'i-1', policy: 'p', summary: 'secret-ish text' } as const;
    const [r, e] = change({ phase: 'RolledBack', cause }, { event: 'rollout.rolled_back' });
    const fields = rolloutLogFields(r, e);
    expect(fields).toMatchObject({ rollbackCause: 'alert', phase: 'RolledBack' });
    expect(JSON.stringify(fields)).not.toContain('secret-ish');
    expect(fields.needsPerson).toBeUndefined();
  });

  it('needsPerson: a pause no person asked for, and ActionRequired; not an operator’s own pause', () => {
    const drift = { kind: 'drift', detail: 'weights 70/30' } as const;
    const [dr, de] = change(
      { phase: 'Paused', step: 1, reason: drift, resume: 'continue' },
      { event: 'rollout.paused' },
    );
    expect(rolloutLogFields(dr, de)).toMatchObject({ pauseReason: 'drift', needsPerson: 'drift' });

    const byOperator = { kind: 'operator', actor: 'operator:ann', note: 'lunch' } as const;
    const [or, oe] = change(
      { phase: 'Paused', step: 1, reason: byOperator, resume: 'continue' },
      { event: 'rollout.paused' },
    );
    const operator = rolloutLogFields(or, oe);
    expect(operator).toMatchObject({ pauseReason: 'operator' });
    expect(operator.needsPerson).toBeUndefined();
    expect(JSON.stringify(operator)).not.toContain('lunch');

    const stuck: Status = {
      phase: 'ActionRequired',
      problem: { kind: 'ruleGone' },
      routeSeen: null,
      resume: { phase: 'Progressing', step: 1 },
    };
    const [ar, ae] = change(stuck, { event: 'rollout.action_required' });
    expect(rolloutLogFields(ar, ae)).toMatchObject({ routeProblem: 'ruleGone', needsPerson: 'ruleGone' });
    // Still ActionRequired on a later change (e.g. a retry): said once, by the change that stopped it.
    const [lr, le] = change(stuck, { event: 'rollout.weights_retrying' });
    expect(rolloutLogFields(lr, le).needsPerson).toBeUndefined();
  });

  it('a release of several routes lists each by short name, the first as route', () => {
    const release = newRelease('rel', [routeName('a'), grpcRouteName('b')]);
    const fields = rolloutLogFields(release.rollout, release.entry);
    expect(fields).toMatchObject({ route: 'a', routes: ['a', 'b'] });
  });

  it('strings are bounded', () => {
    const long = 'x'.repeat(500);
    const fields = rolloutLogFields({ ...created, id: long }, createdEntry);
    expect(fields.id).toHaveLength(100);
  });
});
