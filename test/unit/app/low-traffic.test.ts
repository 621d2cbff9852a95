/**
 * Low-traffic rollouts through the executor and the real core and judge, minute by minute, with
 * seeded Poisson traffic split by the route's live weights: a 2 rps service (about 12 canary
 * requests a minute at 10%, a quarter of minRequests) completes its steps when healthy and is
 * rolled back when 20× worse; a service with almost no traffic pauses with "not enough traffic
 * to judge" once its maximum step duration has passed, never with a pass.
 */
import { describe, expect, it } from 'vitest';
import { poisson } from '../../../bench/analysis/poisson.ts';
import { rngFor } from '../../../bench/analysis/prng.ts';
import type { BackendReading } from '../../../functions/core/analysis/verdict.ts';
import type { MetricSource, RolloutRequestInput } from '../../../functions/core/request.ts';
import { isTerminal, type Rollout } from '../../../functions/core/state.ts';
import type { MetricsReader, TimeWindow } from '../../../functions/ports/metrics-reader.ts';
import { newRollout } from '../../support/fixtures.ts';
import { MemoryRouter, MemoryStore, memoryExecutor } from '../../support/memory-ports.ts';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const MINUTE = 60_000;

/** Seeded per-minute Poisson traffic split by the router's weights, the same for both reads of a window. */
class TrafficMetrics implements MetricsReader {
  readonly #windows = new Map<string, { stable: BackendReading; canary: BackendReading }>();
  readonly #router: MemoryRouter;
  readonly #traffic: { rps: number; stableErrors: number; canaryErrors: number; seed: number };

  constructor(router: MemoryRouter, traffic: TrafficMetrics['traffic']) {
    this.#router = router;
    this.#traffic = traffic;
  }

  get traffic() {
    return this.#traffic;
  }

  async read(source: MetricSource, window: TimeWindow): Promise<BackendReading> {
    const key = `${window.start}-${window.end}`;
    const pair = this.#windows.get(key) ?? this.#draw(window);
    this.#windows.set(key, pair);
    return 'service' in source && source.service.endsWith('canary') ? pair.canary : pair.stable;
  }

  #draw(window: TimeWindow): { stable: BackendReading; canary: BackendReading } {
    const { rps, stableErrors, canaryErrors, seed } = this.#traffic;
    const rng = rngFor(seed, 1, window.start / MINUTE);
    const share = (this.#router.weights?.canary ?? 0) / 100;
    const perWindow = (rps * (window.end - window.start)) / 1000;
    const reading = (mean: number, errorRate: number): BackendReading => {
      const errors = poisson(rng, mean * errorRate);
      const requests = errors + poisson(rng, mean * (1 - errorRate));
      return requests === 0
        ? { kind: 'noData', reason: 'no time series' }
        : { kind: 'data', requests, errors, latency: null };
    };
    return {
      canary: reading(perWindow * share, canaryErrors),
      stable: reading(perWindow * (1 - share), stableErrors),
    };
  }
}

/** Drives one rollout minute by minute until it ends, pauses or `hours` pass. */
async function drive(
  overrides: Partial<RolloutRequestInput>,
  traffic: { rps: number; stableErrors: number; canaryErrors: number; seed: number },
  hours = 3,
): Promise<{ rollout: Rollout; events: string[] }> {
  const { rollout, entry } = newRollout('low', overrides, T0);
  const store = new MemoryStore();
  await store.create(rollout, entry);
  const router = new MemoryRouter(rollout.weights);
  const metrics = new TrafficMetrics(router, traffic);
  const clock = { now: T0 };
  const executor = memoryExecutor({ store, router, metrics, clock });
  let current = (await executor.run('low', { type: 'start', actor: 'test' }))?.rollout ?? rollout;
  while (
    clock.now < T0 + hours * 3600_000 &&
    !isTerminal(current.status.phase) &&
    current.status.phase !== 'Paused'
  ) {
    clock.now += MINUTE;
    current = (await executor.run('low', { type: 'due', actor: 'test' }))?.rollout ?? current;
  }
  const events = (await store.history('low')).map((h) => h.event);
  return { rollout: current, events };
}

const steps = [
  { weight: 10, hold: '10m' },
  { weight: 50, hold: '10m' },
];

describe('low-traffic rollouts', () => {
  it('a healthy 2 rps service completes every step (its windows pooled to reach minRequests)', async () => {
    const { rollout, events } = await drive(
      { steps, onSuccess: 'promote', analysis: { minRequests: 50 } },
      { rps: 2, stableErrors: 0.01, canaryErrors: 0.01, seed: 1 },
    );
    expect(rollout.status.phase).toBe('Succeeded');
    expect(events.filter((e) => e === 'rollout.paused')).toEqual([]);
  });

  it('the same service with a canary 20× worse is rolled back by analysis', async () => {
    const { rollout } = await drive(
      { steps, onSuccess: 'promote', analysis: { minRequests: 50 } },
      { rps: 2, stableErrors: 0.01, canaryErrors: 0.2, seed: 2 },
    );
    expect(rollout.status).toMatchObject({ phase: 'RolledBack', cause: { kind: 'verdict' } });
  });

  it('almost no traffic: paused with "not enough traffic to judge" after maxStepDuration, never a pass', async () => {
    const { rollout, events } = await drive(
      { steps, onSuccess: 'promote', analysis: { minRequests: 200, maxStepDuration: '30m' } },
      { rps: 0.5, stableErrors: 0.01, canaryErrors: 0.01, seed: 3 },
    );
    expect(rollout.status).toMatchObject({
      phase: 'Paused',
      step: 0,
      reason: { kind: 'notEnoughTraffic', needed: 200 },
    });
    expect(rollout.weights).toEqual({ stable: 90, canary: 10 });
    expect(rollout.analysis.last?.verdict).not.toBe('pass');
    expect(events).not.toContain('rollout.promoting');
    const pausedAt = rollout.updatedAt - (rollout.stepStartedAt ?? 0);
    expect(pausedAt).toBeGreaterThanOrEqual(30 * MINUTE);
    expect(pausedAt).toBeLessThan(40 * MINUTE);
  });
});
