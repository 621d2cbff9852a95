/**
 * Google's timing, end to end (scaled ×20): one-minute Cloud Run points visible 30–180 s late,
 * route operations of seconds, route changes reaching the mesh clients one by one. Checked from
 * the mesh's own record of every request it served (when it ended, under which split): no
 * judged window holds a request served under another weight setting, and every minute of each
 * step from its first judged window to the end of its hold was judged before the next step.
 * When a route change never reaches the clients, the metrics show it: windows are left
 * unjudged and the rollout pauses once, saying why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastSegment } from '../../functions/core/resource-name.ts';
import type { HistoryEntry } from '../../functions/core/state.ts';
import { TOPICS } from '../../functions/manifest.ts';
import { type Stack, startStack } from '../support/stack.ts';

const SCALE = 20;
const MINUTE = 60_000 / SCALE;
let stack: Stack;
let stalled: Stack;

beforeAll(async () => {
  [stack, stalled] = await Promise.all([
    startStack({ project: 'e2e-google-timing', apps: ['checkout'], timeScale: SCALE }),
    startStack({
      project: 'e2e-stalled-mesh',
      apps: ['cart'],
      timeScale: SCALE,
      // Route changes take an hour to reach any client: the data plane never follows.
      cloud: { timingOverrides: { propagation: 3_600_000 / SCALE } },
    }),
  ]);
});

afterAll(async () => {
  await Promise.all([stack?.stop(), stalled?.stop()]);
});

const judged = (history: readonly HistoryEntry[]) =>
  history.filter(
    (h): h is HistoryEntry & { verdict: NonNullable<HistoryEntry['verdict']> } => h.verdict !== null,
  );

describe('with Google’s timing on', () => {
  it('judges only windows served under one split, and every minute of each hold before moving on', async () => {
    const app = stack.app('checkout');
    stack.load(app, 100);
    const steps = [
      { weight: 20, hold: '2m' },
      { weight: 50, hold: '2m' },
    ];
    await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, { rolloutId: 'timing-1', steps, analysis: { minRequests: 10 } }),
    );
    const done = await stack.waitForTerminal('timing-1', 150_000);
    expect(done.status.phase).toBe('Succeeded');
    const history = await stack.store.history('timing-1');
    const canaryKey = lastSegment(app.canary);
    const served = stack.cloud.mesh.served().filter((s) => s.route === app.route);

    const windows = judged(history);
    expect(windows.length).toBeGreaterThanOrEqual(2);
    for (const h of windows) {
      const { start, end } = h.verdict.window;
      const inside = served.filter((s) => s.at >= start && s.at < end);
      expect(inside.length, `requests in window ${h.verdict.window.index}`).toBeGreaterThan(0);
      const shares = new Set(inside.map((s) => s.shares[canaryKey] ?? 0));
      expect([...shares], `splits served in the window judged at ${h.from.weights.canary} %`).toEqual([
        h.from.weights.canary / 100,
      ]);
    }

    const live = history.filter((h) => h.event === 'rollout.weights_live' && h.to.weights.canary < 100);
    expect(live.map((h) => h.to.weights.canary)).toEqual([20, 50]);
    live.forEach((step, i) => {
      const holdEnd = step.at + 2 * MINUTE;
      const next = history.find((h) => h.version > step.version && h.event === 'rollout.weights_applying');
      const own = windows.filter(
        (h) => h.version > step.version && h.version < (next?.version ?? Number.POSITIVE_INFINITY),
      );
      expect(own.length, `judged windows of step ${i}`).toBeGreaterThan(0);
      const sorted = own.map((h) => h.verdict.window).sort((a, b) => a.start - b.start);
      sorted.slice(1).forEach((w, k) => {
        expect(w.start).toBe(sorted[k]?.end);
      });
      const last = sorted.at(-1);
      expect(last?.end ?? 0, `step ${i} judged to the end of its hold`).toBeGreaterThanOrEqual(holdEnd);
      expect(next?.at ?? done.updatedAt).toBeGreaterThanOrEqual(last?.end ?? 0);
      // The first window starts on a sampling boundary after the settle allowance.
      expect((sorted[0]?.start ?? 1) % MINUTE).toBe(0);
    });
  }, 200_000);
});

describe('when the route change never reaches the mesh clients', () => {
  it('leaves the windows unjudged and pauses once, saying why', async () => {
    const app = stalled.app('cart');
    stalled.load(app, 100);
    await stalled.controller.publish(
      TOPICS.requests,
      stalled.request(app, {
        rolloutId: 'stalled-1',
        steps: [{ weight: 30, hold: '2m' }],
        analysis: { minRequests: 10, inconclusiveLimit: 3 },
      }),
    );
    const paused = await stalled.waitFor('stalled-1', (r) => r.status.phase === 'Paused', 120_000);
    expect(paused.status).toMatchObject({ phase: 'Paused', reason: { kind: 'splitNotLive', windows: 3 } });
    expect(paused.weights).toEqual({ stable: 70, canary: 30 });
    const history = await stalled.store.history('stalled-1');
    expect(judged(history)).toEqual([]);
    const notJudged = history.filter((h) => /not judged: canary had 0\.0 %/.test(h.reason));
    expect(notJudged).toHaveLength(3);
    expect(history.at(-1)?.reason).toMatch(/propagation stalled\?/);
    expect(stalled.cloud.mesh.propagated()).toBe(false);
  }, 150_000);
});
