/**
 * A paused rollout whose metrics have no data, driven through the real executor, core and judge
 * for 1,000 analysis windows (memory ports, a fake clock — end to end this would take 1,000
 * windows of real time): the history grows by at most ⌈1000 / COALESCED_WINDOWS⌉ + 1 entries,
 * every one published as a lifecycle event, and the rollout keeps being looked at — driven like
 * the tick (every minute) or like a workflow (sleeping until the answer's due time).
 */
import { describe, expect, it } from 'vitest';
import { answerFor } from '../../../functions/app/advance.ts';
import { loadConfig } from '../../../functions/app/config.ts';
import type { Rollout } from '../../../functions/core/state.ts';
import { COALESCED_WINDOWS } from '../../../functions/core/transition/coalesce.ts';
import { newRollout } from '../../support/fixtures.ts';
import {
  MemoryMetrics,
  MemoryPublisher,
  MemoryRouter,
  MemoryStore,
  memoryExecutor,
} from '../../support/memory-ports.ts';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const MINUTE = 60_000;
const WINDOWS = 1000;
const BOUND = Math.ceil(WINDOWS / COALESCED_WINDOWS) + 1;
const config = loadConfig({
  GOOGLE_CLOUD_PROJECT: 'demo-project',
  ALLOWED_ROUTES: 'projects/demo-project/locations/global/httpRoutes/*',
});

type Pace = 'tick' | 'workflow';

async function pausedForMissingData(pace: Pace) {
  const { rollout, entry } = newRollout('quiet', { analysis: { inconclusiveLimit: 3 } }, T0);
  const store = new MemoryStore();
  await store.create(rollout, entry);
  const router = new MemoryRouter(rollout.weights);
  const none = { kind: 'noData', reason: 'no time series' } as const;
  const metrics = new MemoryMetrics({ stable: none, canary: none });
  const publisher = new MemoryPublisher();
  const clock = { now: T0 };
  const executor = memoryExecutor({ store, router, metrics, publisher, clock });
  let r: Rollout = (await executor.run('quiet', { type: 'start', actor: 'test' }))?.rollout ?? rollout;
  /** One driver call, then the clock moves on as the driver would wait. */
  const step = async (): Promise<void> => {
    const result = await executor.run('quiet', {
      type: 'due',
      actor: pace === 'tick' ? 'scheduler' : 'workflow:e1',
    });
    r = result?.rollout ?? r;
    const wait = answerFor(r, clock.now, config, result?.reason ?? null, result?.retryAt ?? null).waitSeconds;
    clock.now += pace === 'tick' ? MINUTE : Math.max(1000, wait * 1000);
  };
  while (r.status.phase !== 'Paused') await step();
  return { store, publisher, clock, step, rollout: () => r };
}

function windowsDone(r: Rollout): number {
  return r.analysis.windowsJudged + r.analysis.windowsSettling;
}

describe('a rollout paused for missing data, 1,000 windows later', () => {
  for (const pace of ['tick', 'workflow'] as const) {
    it(`driven like the ${pace}: at most ${BOUND} history entries, one event each, and every window judged`, async () => {
      const run = await pausedForMissingData(pace);
      expect(run.rollout().status).toMatchObject({ phase: 'Paused', reason: { kind: 'inconclusive' } });
      const before = (await run.store.history('quiet')).length;
      const eventsBefore = run.publisher.published.length;
      const from = windowsDone(run.rollout());
      const until = run.clock.now + WINDOWS * run.rollout().plan.analysis.intervalMs;
      while (run.clock.now < until) await run.step();
      const history = await run.store.history('quiet');
      const growth = history.length - before;
      expect(growth).toBeGreaterThan(0);
      expect(growth).toBeLessThanOrEqual(BOUND);
      expect(run.publisher.published.length - eventsBefore).toBe(growth);
      expect(history.slice(before).map((h) => h.event)).toEqual(Array(growth).fill('rollout.analysis'));
      expect(run.rollout().status.phase).toBe('Paused');
      // Still looked at: the recorded windows reach to within one coalescing span of the end.
      expect(windowsDone(run.rollout()) - from).toBeGreaterThan(WINDOWS - COALESCED_WINDOWS - 5);
      console.log(`${pace}: ${WINDOWS} windows while paused → ${growth} history entries (bound ${BOUND})`);
    });
  }
});
