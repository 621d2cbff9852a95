/** rolloutctl plan's pure parts: the route writes each step would make, and the earliest timeline. */
import { describe, expect, it } from 'vitest';
import { backendKey, type RouteSnapshot } from '../../../functions/core/routing/snapshot.ts';
import { stepWrites } from '../../../functions/core/routing/step-diff.ts';
import { managedRule, targetsOf } from '../../../functions/core/targets.ts';
import { rolloutTimeline } from '../../../functions/core/timeline.ts';
import { backendName, newRollout, RULE_SHAPE, request } from '../../support/fixtures.ts';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const min = (m: number, s = 0) => T0 + m * 60_000 + s * 1000;

function route(destinations: { name: string; weight: number | null }[]): RouteSnapshot {
  const other = {
    name: backendName('static'),
    backend: backendKey(backendName('static')),
    weight: null,
    extras: '{}',
  };
  return {
    updateTime: '2026-11-23T11:00:00Z',
    shape: '{}',
    attachments: { meshes: [], gateways: [] },
    rules: [
      { shape: '{"matches":[{"prefixMatch":"/static"}]}', destinations: [other] },
      {
        shape: RULE_SHAPE,
        destinations: destinations.map((d) => ({ ...d, backend: backendKey(d.name), extras: '{}' })),
      },
    ],
  };
}

describe('stepWrites', () => {
  const { rollout } = newRollout('r');
  const [first] = targetsOf(request());
  if (first === undefined) throw new Error('fixture without a target');
  const target = managedRule(first, null);

  it('chains each step on the route the previous one leaves, touching only the managed rule', () => {
    const writes = stepWrites(
      route([{ name: backendName('checkout-stable'), weight: null }]),
      target,
      rollout.plan.steps,
    );
    const stable = backendName('checkout-stable');
    const canary = backendName('checkout-canary');
    expect(writes).toEqual([
      {
        step: 0,
        weights: { stable: 90, canary: 10 },
        kind: 'write',
        ruleIndex: 1,
        before: [{ name: stable, weight: null }],
        after: [
          { name: stable, weight: 90 },
          { name: canary, weight: 10 },
        ],
      },
      {
        step: 1,
        weights: { stable: 50, canary: 50 },
        kind: 'write',
        ruleIndex: 1,
        before: [
          { name: stable, weight: 90 },
          { name: canary, weight: 10 },
        ],
        after: [
          { name: stable, weight: 50 },
          { name: canary, weight: 50 },
        ],
      },
      {
        step: 2,
        weights: { stable: 0, canary: 100 },
        kind: 'write',
        ruleIndex: 1,
        before: [
          { name: stable, weight: 50 },
          { name: canary, weight: 50 },
        ],
        after: [{ name: canary, weight: null }],
      },
    ]);
  });

  it('says why a step would write nothing (a rule that also routes elsewhere is never rewritten)', () => {
    const shared = route([
      { name: backendName('checkout-stable'), weight: 80 },
      { name: backendName('legacy'), weight: 20 },
    ]);
    const writes = stepWrites(shared, target, rollout.plan.steps);
    expect(writes.map((w) => w.kind)).toEqual(['skip', 'skip', 'skip']);
    expect(writes[0]).toMatchObject({ reason: 'the rule also routes to other backends' });
  });
});

describe('rolloutTimeline', () => {
  it('puts each step after its hold, on whole windows from the first sampling boundary after settling', () => {
    const { rollout } = newRollout('r');
    const timeline = rolloutTimeline(rollout.plan, T0);
    expect(timeline.steps).toEqual([
      {
        step: 0,
        kind: 'weight',
        weights: { stable: 90, canary: 10 },
        startsAt: T0,
        windows: 1,
        promotableAt: min(2, 15),
        judgedByAt: min(5),
      },
      {
        step: 1,
        kind: 'weight',
        weights: { stable: 50, canary: 50 },
        startsAt: min(2, 15),
        windows: 2,
        promotableAt: min(5, 15),
        judgedByAt: min(8),
      },
      { step: 2, kind: 'promote', weights: { stable: 0, canary: 100 }, writtenAt: min(5, 15) },
    ]);
    expect(timeline.completesAt).toBe(min(5, 15));
    expect(timeline.gates).toBe(0);
  });

  it('counts gates and assumes an instant approval after them; a short hold still needs one window', () => {
    const { rollout } = newRollout('r', {
      steps: [{ weight: 5, hold: '10s' }, { gate: 'manual' }, { weight: 20, hold: '3m' }],
    });
    const timeline = rolloutTimeline(rollout.plan, min(0, 40));
    expect(timeline.gates).toBe(1);
    expect(timeline.steps[0]).toMatchObject({ windows: 1, promotableAt: min(3, 15) });
    expect(timeline.steps[1]).toEqual({ step: 1, kind: 'gate', reachedAt: min(3, 15) });
    // 03:15 + 30 s settle → windows from 04:00; hold ends 06:15 → 3 windows to 07:00.
    expect(timeline.steps[2]).toMatchObject({ windows: 3, promotableAt: min(7, 15) });
  });
});
