/**
 * The executor at the ingestion frontier, with a metrics port whose points become visible over
 * time as Cloud Monitoring's do: a window is judged the moment both backends' points for it are
 * visible, not stored while one is missing (the driver is told when to look again), and judged
 * with what is there once its deadline has passed.
 */
import { describe, expect, it } from 'vitest';
import { answerFor } from '../../../functions/app/advance.ts';
import { loadConfig } from '../../../functions/app/config.ts';
import type { BackendReading } from '../../../functions/core/analysis/verdict.ts';
import type { MetricSource } from '../../../functions/core/request.ts';
import type { MetricsReader, ReadOptions, TimeWindow } from '../../../functions/ports/metrics-reader.ts';
import { newRollout } from '../../support/fixtures.ts';
import { MemoryRouter, MemoryStore, memoryExecutor } from '../../support/memory-ports.ts';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const S = 1000;
const M = 60 * S;

/** Points per backend (their end times) that Monitoring shows so far; each period has 1000 requests, 1 error. */
class VisibleMetrics implements MetricsReader {
  readonly visible = { stable: new Set<number>(), canary: new Set<number>() };
  readonly reads: { window: TimeWindow; options: ReadOptions }[] = [];

  async read(source: MetricSource, window: TimeWindow, options: ReadOptions = {}): Promise<BackendReading> {
    this.reads.push({ window, options });
    const side = 'service' in source && source.service.endsWith('canary') ? 'canary' : 'stable';
    const periods = [...this.visible[side]].filter((e) => e > window.start && e <= window.end).sort();
    if (periods.length === 0) return { kind: 'noData', reason: 'no time series' };
    const requests = periods.length * (side === 'canary' ? 1000 : 9000);
    return {
      kind: 'data',
      requests,
      errors: periods.length,
      latency: null,
      ...(options.periodMs === undefined ? {} : { periods }),
    };
  }
}

async function setup() {
  const { rollout, entry } = newRollout(
    'f1',
    { steps: [{ weight: 10, hold: '10m' }], analysis: { sequential: { latency: false } } },
    T0,
  );
  const store = new MemoryStore();
  await store.create(rollout, entry);
  const metrics = new VisibleMetrics();
  const clock = { now: T0 };
  const executor = memoryExecutor({ store, router: new MemoryRouter(rollout.weights), metrics, clock });
  await executor.run('f1', { type: 'start', actor: 'workflow' });
  const verdicts = async () => (await store.history('f1')).filter((h) => h.verdict !== null);
  return { store, metrics, clock, executor, verdicts };
}

describe('the ingestion frontier', () => {
  // Confirmed at T0: the first window is [T0 + 60 s, T0 + 120 s), its one point ends at T0 + 120 s.
  const END = T0 + 2 * M;

  it('judges the first window as soon as both points are visible, long before the 180 s deadline', async () => {
    const t = await setup();
    t.metrics.visible.stable.add(END);
    t.clock.now = END + 15 * S;
    const early = await t.executor.run('f1', { type: 'due', actor: 'workflow' });
    expect(await t.verdicts()).toEqual([]);
    expect(early?.retryAt).toBe(END + 30 * S);
    expect(early?.reason).toMatch(
      /window 1: canary point\(s\) ending 12:02:00 not visible yet; looking again at/,
    );
    expect(t.metrics.reads.every((r) => r.options.periodMs === M)).toBe(true);
    const versions = (await t.store.history('f1')).length;

    t.metrics.visible.canary.add(END);
    t.clock.now = END + 30 * S;
    await t.executor.run('f1', { type: 'due', actor: 'workflow' });
    const [judged] = await t.verdicts();
    expect(judged?.verdict).toMatchObject({ verdict: 'pass', window: { index: 1, start: T0 + M, end: END } });
    expect((await t.store.history('f1')).length).toBeGreaterThan(versions);
  });

  it('after the deadline, judges with what is there: a point still missing counts as nothing', async () => {
    const t = await setup();
    t.metrics.visible.stable.add(END);
    t.metrics.visible.canary.add(END);
    t.clock.now = END + 15 * S;
    await t.executor.run('f1', { type: 'due', actor: 'workflow' });
    // The second window's canary point never shows up in time.
    t.metrics.visible.stable.add(END + M);
    t.clock.now = END + M + 180 * S;
    const result = await t.executor.run('f1', { type: 'due', actor: 'workflow' }, { only: true });
    expect(result?.retryAt).toBeNull();
    const judged = (await t.verdicts()).map((h) => h.verdict);
    expect(judged.map((v) => [v?.window.index, v?.verdict])).toEqual([
      [1, 'pass'],
      [2, 'inconclusive'],
    ]);
    expect(judged[1]?.summary).toMatch(/no canary metrics/);
    expect(t.metrics.reads.at(-1)?.options.periodMs).toBeUndefined();
  });

  it('never looks again later than the deadline, and the workflow sleeps until the next look', async () => {
    const t = await setup();
    t.clock.now = END + 170 * S;
    const result = await t.executor.run('f1', { type: 'due', actor: 'workflow' });
    if (result === null) throw new Error('rollout f1 not found');
    expect(result.retryAt).toBe(END + 180 * S);
    const config = loadConfig({
      GOOGLE_CLOUD_PROJECT: 'p',
      ALLOWED_ROUTES: 'projects/p/locations/global/httpRoutes/*',
    });
    const answer = answerFor(result.rollout, t.clock.now, config, result.reason, result.retryAt);
    expect(answer.waitSeconds).toBe(10);
  });
});
