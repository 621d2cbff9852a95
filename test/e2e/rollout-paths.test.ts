/**
 * The ways rollouts are used, end to end through the Pub/Sub emulator's push subscriptions into
 * the functions: a request whose metrics can never see the mesh route's traffic rejected, a
 * published request driven by a workflow to promotion, scheduled progression to promotion, an
 * alert rolling a canary back, and the statistical judge's verdict rolling a faulty canary back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../functions/core/state.ts';
import { TOPICS } from '../../functions/manifest.ts';
import { eventsOf, type Stack, startStack, withoutDestinations } from '../support/stack.ts';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    project: 'e2e-paths',
    apps: ['checkout', 'cart', 'search', 'payments'],
    // payments has no alert policy: only the analysis can roll its canary back.
    cloud: { alerts: { payments: null } },
  });
});
afterAll(() => stack.stop());

describe('rollout paths (Pub/Sub push → functions → Workflows runner → route)', () => {
  it('rejects internalLb metrics on the demo mesh route as an invalid request: nothing stored, route unchanged', async () => {
    const app = stack.app('checkout');
    const before = stack.route(app);
    const messageId = await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, {
        rolloutId: 'paths-internal-lb',
        analysis: { metrics: { canary: { preset: 'internalLb', backend: app.canaryService } } },
      }),
    );
    const rejected = () =>
      stack.logs.find((l) => l.severity === 'ERROR' && l.fields['messageId'] === messageId);
    await expect.poll(rejected, { timeout: 20_000 }).toBeDefined();
    expect(rejected()?.message).toContain(
      'analysis.metrics.canary must not use preset "internalLb" on a route attached to Mesh',
    );
    expect(rejected()?.fields).toMatchObject({
      code: 'INVALID_REQUEST',
      problems: [{ field: 'analysis.metrics.canary' }],
    });
    expect(await stack.store.get('paths-internal-lb')).toBeNull();
    expect(stack.route(app)).toEqual(before);
  });

  it('promotes a published request driven by its workflow, changing nothing else on the route', async () => {
    const app = stack.app('checkout');
    const before = stack.route(app);
    stack.load(app);
    await stack.controller.publish(TOPICS.requests, stack.request(app, { rolloutId: 'paths-workflow' }));
    const done = await stack.waitForTerminal('paths-workflow');
    expect(done.status.phase).toBe('Succeeded');
    expect(done.driver).toMatchObject({
      kind: 'workflow',
      execution: expect.stringContaining('/executions/'),
    });

    const history = await stack.store.history('paths-workflow');
    expect(history.map((h) => h.version)).toEqual(history.map((_, i) => i + 1));
    // The execution is recorded once it has started, racing with its own first calls: the
    // attachment lands somewhere between creation and the end, once.
    const attached = history.findIndex((h) => h.event === 'rollout.driver_attached');
    expect(history.filter((h) => h.event === 'rollout.driver_attached')).toHaveLength(1);
    expect(attached).toBeGreaterThan(0);
    expect(attached).toBeLessThan(history.length - 1);
    expect(history[attached]?.actor).toBe(history[0]?.actor);
    expect(history[attached]?.reason).toContain(
      done.driver.kind === 'workflow' ? done.driver.execution : '?',
    );
    const progress = history.filter((h) => h.event !== 'rollout.driver_attached');
    // The whole sequence, with each run of analysis events kept as one: how many windows a step
    // takes depends on timing, that every step is applied, confirmed and judged does not.
    const outline = progress
      .map((h) => h.event)
      .filter((event, i, all) => event !== 'rollout.analysis' || all[i - 1] !== 'rollout.analysis');
    expect(outline).toEqual([
      'rollout.created',
      ...[20, 50].flatMap(() => ['rollout.weights_applying', 'rollout.weights_live', 'rollout.analysis']),
      'rollout.promoting',
      'rollout.succeeded',
    ]);
    const steps = [20, 50].map((canary, step) => {
      const weights = { stable: 100 - canary, canary };
      const entries = progress.filter((h) => h.to.phase === 'Progressing' && h.to.step === step);
      const [applying, live, ...judged] = entries;
      expect(applying).toMatchObject({
        event: 'rollout.weights_applying',
        intent: { purpose: 'step', weights },
      });
      expect(live).toMatchObject({ event: 'rollout.weights_live', to: { weights }, intent: null });
      expect(judged.length).toBeGreaterThan(0);
      for (const h of judged) {
        expect(h).toMatchObject({
          event: 'rollout.analysis',
          to: { weights },
          verdict: { verdict: expect.stringMatching(/^(pass|inconclusive)$/) },
        });
      }
      // Windows within a step are judged in order, each once; a step ends only on a pass.
      const windows = judged.map((h) => h.verdict?.window.index ?? 0);
      expect(windows.every((w, i) => i === 0 || w > (windows[i - 1] ?? 0))).toBe(true);
      expect(judged.at(-1)?.verdict?.verdict).toBe('pass');
      return entries;
    });
    // Nothing happened outside the steps but creation, promotion and success.
    expect(progress.slice(1, -2)).toEqual(steps.flat());
    expect(history.at(-2)).toMatchObject({
      event: 'rollout.promoting',
      intent: { purpose: 'promote', weights: { stable: 0, canary: 100 } },
    });
    expect(history.at(-1)).toMatchObject({
      event: 'rollout.succeeded',
      to: { phase: 'Succeeded', weights: { stable: 0, canary: 100 } },
    });
    expect(history.some((h) => h.actor.startsWith('workflow:projects/e2e-paths/'))).toBe(true);
    expect(history.filter((h) => h.verdict?.verdict === 'pass').length).toBeGreaterThanOrEqual(2);

    const after = stack.route(app);
    expect(after.rules?.[1]?.action?.destinations).toEqual([{ serviceName: app.canary }]);
    expect(withoutDestinations(after, 1)).toEqual(withoutDestinations(before, 1));

    const execution = await stack.controller.workflows.executions.wait(
      done.driver.kind === 'workflow' ? (done.driver.execution ?? '') : '',
    );
    expect(execution.state).toBe('SUCCEEDED');

    await expect
      .poll(() => eventsOf(stack, 'paths-workflow').length, { timeout: 10_000 })
      .toBe(history.length);
    expect(
      eventsOf(stack, 'paths-workflow').map((e) => [e.version, e.type, e.phase, e.step, e.totalSteps]),
    ).toEqual(
      history.map((h) => [h.version, h.event, h.to.phase, h.to.step === null ? null : h.to.step + 1, 2]),
    );
    expect(stack.logs.filter((l) => l.message === 'lifecycle event not published')).toEqual([]);
  });

  it('promotes a scheduler-driven rollout on the minute tick alone', async () => {
    const app = stack.app('cart');
    stack.load(app);
    await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, { rolloutId: 'paths-scheduler', driver: 'scheduler' }),
    );
    const done = await stack.waitForTerminal('paths-scheduler');
    expect(done.status.phase).toBe('Succeeded');
    expect(done.driver).toEqual({ kind: 'scheduler' });
    const history = await stack.store.history('paths-scheduler');
    const actors = new Set(history.slice(1).map((h) => h.actor.split(':')[0]));
    expect(actors.has('workflow')).toBe(false);
    expect(history.filter((h) => h.actor === 'scheduler').length).toBeGreaterThan(3);
  });

  it('rolls back at once when the canary’s Monitoring alert opens', async () => {
    const app = stack.app('search');
    const before = stack.route(app);
    stack.load(app);
    await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, {
        rolloutId: 'paths-alert',
        steps: [{ weight: 30, hold: '10m' }],
        analysis: { interval: '10m', minRequests: 10 },
      }),
    );
    await stack.waitFor('paths-alert', (r) => r.weights.canary === 30);
    stack.cloud.backends.get(app.canaryService)?.setBehaviour({ errorRatio: 0.7 });
    const done = await stack.waitForTerminal('paths-alert', 60_000);
    stack.cloud.backends.get(app.canaryService)?.setBehaviour({ errorRatio: 0 });
    expect(done.status).toMatchObject({ phase: 'RolledBack', cause: { kind: 'alert' } });
    expect(done.weights).toEqual({ stable: 100, canary: 0 });
    const after = stack.route(app);
    expect(after.rules?.[1]?.action?.destinations).toEqual([{ serviceName: app.stable }]);
    expect(withoutDestinations(after, 1)).toEqual(withoutDestinations(before, 1));
    const history = await stack.store.history('paths-alert');
    const rollback = history.find((h) => h.event === 'rollout.rolling_back');
    expect(rollback?.actor).toBe(`alert:${app.name} canary 5xx ratio above 0.1`);
    expect(history.some((h) => h.verdict?.verdict === 'fail')).toBe(false);
  });

  it('rolls back a faulty canary on the statistical judge’s verdict, its evidence in history and events', async () => {
    const app = stack.app('payments');
    const before = stack.route(app);
    const canary = stack.cloud.backends.get(app.canaryService);
    stack.load(app);
    await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, {
        rolloutId: 'paths-verdict',
        // Long enough at 20% for the per-period bets (at most ×5 a window at a 20% share) to
        // reach 1/α on canary-only 5xx.
        steps: [
          { weight: 20, hold: '15m' },
          { weight: 50, hold: '5m' },
        ],
        // No 5xx ratio fails the absolute check, so only the comparison with stable can fail it.
        analysis: { minRequests: 10, maxErrorRatio: 1 },
      }),
    );
    // The canary turns bad once a healthy window has been judged, so the evidence has a history.
    await stack.waitFor('paths-verdict', (r) => r.analysis.windowsJudged > 0);
    canary?.setBehaviour({ errorRatio: 0.25 });
    const done = await stack.waitForTerminal('paths-verdict');
    canary?.setBehaviour({ errorRatio: 0 });
    expect(done.status).toMatchObject({ phase: 'RolledBack', cause: { kind: 'verdict' } });
    expect(done.weights).toEqual({ stable: 100, canary: 0 });
    const after = stack.route(app);
    expect(after.rules?.[1]?.action?.destinations).toEqual([{ serviceName: app.stable }]);
    expect(withoutDestinations(after, 1)).toEqual(withoutDestinations(before, 1));

    const history = await stack.store.history('paths-verdict');
    expect(history.slice(-2).map((h) => h.event)).toEqual(['rollout.rolling_back', 'rollout.rolled_back']);
    const judged = history.filter((h) => h.verdict !== null);
    const failing = judged.at(-1);
    const earlier = judged.slice(0, -1);
    expect(failing).toMatchObject({ event: 'rollout.rolling_back', verdict: { verdict: 'fail' } });
    expect(earlier.length).toBeGreaterThan(0);
    expect(earlier.every((h) => h.event === 'rollout.analysis' && h.verdict?.verdict !== 'fail')).toBe(true);

    // Every verdict carries the comparison's evidence, its accumulators never going backwards.
    for (const h of judged) {
      expect(h.verdict?.evidence).toMatchObject({
        eValue: expect.any(Number),
        logEValue: expect.any(Number),
        eValueThreshold: 100,
        alpha: 0.01,
        peakEValue: expect.any(Number),
        comparedWindows: expect.any(Number),
        comparedCanaryErrors: expect.any(Number),
        comparedStableErrors: expect.any(Number),
      });
    }
    const evidence = (h: HistoryEntry | undefined, key: string): number => Number(h?.verdict?.evidence[key]);
    for (const key of ['peakEValue', 'comparedWindows', 'comparedCanaryErrors', 'comparedStableErrors']) {
      const series = judged.map((h) => evidence(h, key));
      expect(series, key).toEqual([...series].sort((a, b) => a - b));
    }
    // Before the failing window the e-value stayed below 1/α, and each summary said so.
    for (const h of earlier) {
      expect(evidence(h, 'peakEValue')).toBeLessThan(evidence(h, 'eValueThreshold'));
      expect(h.verdict?.summary).toMatch(/; e-value \S+ < 100 \(α = 0\.01\)$/);
    }
    // The failing window: the e-value reached 1/α, and the summary gives it with the 5xx compared.
    const eValue = evidence(failing, 'eValue');
    expect(eValue).toBeGreaterThanOrEqual(evidence(failing, 'eValueThreshold'));
    expect(evidence(failing, 'peakEValue')).toBe(eValue);
    expect(evidence(failing, 'logEValue')).toBeCloseTo(Math.log(eValue), 1);
    expect(evidence(failing, 'comparedWindows')).toBeGreaterThan(0);
    expect(evidence(failing, 'comparedCanaryErrors')).toBeGreaterThan(
      evidence(failing, 'comparedStableErrors'),
    );
    expect(evidence(failing, 'failures')).toBe(0);
    expect(failing?.verdict?.evidence['reasons']).toContain("canary 5xx rate is higher than stable's");
    const summary = failing?.verdict?.summary ?? '';
    const stated =
      /^canary 5xx rate above stable's: e-value (\S+) ≥ 100 \(α = 0\.01\) over (\d+) canary and (\d+) stable 5xx( \(5xx and latency e-values averaged\))?$/.exec(
        summary,
      );
    expect(stated, summary).not.toBeNull();
    expect(stated?.slice(1, 4).map(Number)).toEqual([
      eValue,
      evidence(failing, 'comparedCanaryErrors'),
      evidence(failing, 'comparedStableErrors'),
    ]);
    expect(failing?.reason).toBe(`analysis failed: ${summary}; rolling back`);
    expect(done.status).toMatchObject({ cause: { kind: 'verdict', summary } });

    // The lifecycle events carry the same verdicts, evidence included.
    await expect
      .poll(() => eventsOf(stack, 'paths-verdict').length, { timeout: 10_000 })
      .toBe(history.length);
    const published = eventsOf(stack, 'paths-verdict');
    expect(published.map((e) => [e.version, e.type, e.verdict])).toEqual(
      history.map((h) => [h.version, h.event, h.verdict]),
    );
    expect(published.find((e) => e.verdict?.verdict === 'fail')).toMatchObject({
      type: 'rollout.rolling_back',
      phase: 'RollingBack',
      verdict: {
        summary,
        evidence: {
          eValue,
          eValueThreshold: 100,
          peakEValue: eValue,
          comparedWindows: evidence(failing, 'comparedWindows'),
        },
      },
    });
    expect(stack.logs.filter((l) => l.message === 'lifecycle event not published')).toEqual([]);
  });
});
