/**
 * Hooks in whole rollouts, end to end on the local cloud (HOOK_URL_POLICY=local, as `npm run dev`):
 * the smoke-test service (local/hooks/smoke-test.ts) as a check hook calling the canary through
 * the mesh — a healthy canary promoted, a failing one rolled back with cause hook; a slow, failing
 * onRollback hook that does not delay the rollback next to a rollout without hooks; and requests
 * with bad hooks rejected with the field named, nothing created.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RolloutRequestInput } from '../../functions/core/request.ts';
import type { Rollout } from '../../functions/core/state.ts';
import { TOPICS } from '../../functions/manifest.ts';
import type { DemoApp } from '../../local/demo-apps.ts';
import { type SmokeTestService, startSmokeTest } from '../../local/hooks/smoke-test.ts';
import {
  eventFor,
  HOOKS_ALERT_POLICY,
  hookEntry,
  manyHooks,
  raiseAlert,
  rejection,
  routeSafe,
  state,
  tokenProblems,
  until,
} from '../support/hook-e2e.ts';
import { type HookServer, startHookServer } from '../support/hook-server.ts';
import { eventsOf, type Stack, startStack } from '../support/stack.ts';

let stack: Stack;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  stack = await startStack({
    project: 'e2e-hooks-flows',
    apps: ['smoke-ok', 'smoke-bad', 'rb-hooked', 'rb-plain', 'bad-hooks'],
    timeScale: 20,
    // Only the hooks and the test's own alerts roll anything back here.
    cloud: { alerts: false },
    controller: { env: { KNOWN_ALERT_POLICIES: HOOKS_ALERT_POLICY } },
  });
});
afterAll(async () => {
  await Promise.allSettled(closers.map((close) => close()));
  await stack?.stop();
});

async function smokeTest(app: DemoApp): Promise<SmokeTestService> {
  const smoke = await startSmokeTest(stack.cloud, app);
  closers.push(() => smoke.close());
  return smoke;
}

async function hookServer(): Promise<HookServer> {
  const server = await startHookServer({ jwksUrl: stack.cloud.iam.jwksUrl });
  closers.push(() => server.close());
  return server;
}

function publish(app: DemoApp, overrides: Partial<RolloutRequestInput>): Promise<string> {
  return stack.controller.publish(TOPICS.requests, stack.request(app, overrides));
}

const liveAt = (canary: number) => (r: Rollout) => r.weights.canary === canary && r.intent === null;

describe('the smoke-test service as a check hook, through the mesh', () => {
  it('passes for a healthy canary in every weight step; the rollout Succeeds', async () => {
    const app = stack.app('smoke-ok');
    const smoke = await smokeTest(app);
    stack.load(app, 40);
    await publish(app, {
      rolloutId: 'smoke-ok',
      steps: [
        { weight: 20, hold: '0s' },
        { weight: 50, hold: '0s' },
      ],
      analysis: { minRequests: 10 },
      hooks: { check: [{ name: 'smoke', url: smoke.url, timeout: '20s', retries: 1 }] },
    });
    const done = await state(stack, 'smoke-ok', (r) => r.status.phase === 'Succeeded', 'Succeeded', 180_000);
    expect(done.weights).toEqual({ stable: 0, canary: 100 });
    const history = await stack.store.history('smoke-ok');
    const passes = history.filter((h) => h.event === 'rollout.hook_passed');
    // Each weight step was smoke-tested once its weights were live, before the next step began.
    expect(passes.map((h) => [h.to.step, h.to.weights.canary])).toEqual([
      [0, 20],
      [1, 50],
    ]);
    for (const h of passes) {
      expect(h.hooks).toEqual([
        expect.objectContaining({ point: 'check', hook: 'smoke', status: 'passed', code: 200, attempts: 1 }),
      ]);
      expect(h.hooks?.[0]?.excerpt).toMatch(/^\{"result":"pass","requests":20,"errors":\d\}$/);
      expect((await eventFor(stack, 'smoke-ok', h)).hooks).toEqual(h.hooks);
    }
    const promoted = history.find((h) => h.intent?.weights.canary === 100);
    expect(passes[1]?.version).toBeLessThan(promoted?.version ?? 0);
    const runs = smoke.runs.filter((r) => r.rolloutId === 'smoke-ok');
    expect(runs.map((r) => [r.kind, r.result, r.requests])).toEqual([
      ['check', 'pass', 20],
      ['check', 'pass', 20],
    ]);
    expect(smoke.refused()).toBe(0);
  }, 240_000);

  it('fails for a failing canary: the rollout rolls back with cause hook and the answer', async () => {
    const app = stack.app('smoke-bad');
    const smoke = await smokeTest(app);
    // Every canary request fails; no load on the route, so only the smoke test sees the canary.
    stack.cloud.backends.get(app.canaryService)?.setBehaviour({ errorRatio: 1 });
    await publish(app, {
      rolloutId: 'smoke-bad',
      steps: [{ weight: 20, hold: '1h' }],
      analysis: { minRequests: 1000 },
      hooks: { check: [{ name: 'smoke', url: smoke.url, timeout: '20s', retries: 0, failureLimit: 1 }] },
    });
    const done = await state(stack, 'smoke-bad', (r) => r.status.phase === 'RolledBack', 'RolledBack');
    expect(done.status).toMatchObject({
      phase: 'RolledBack',
      cause: {
        kind: 'hook',
        point: 'check',
        hook: 'smoke',
        status: 'failed',
        summary: expect.stringMatching(
          /^smoke: failed \(HTTP 200\): \{"result":"fail","requests":20,"errors":20\}$/,
        ),
      },
    });
    expect(routeSafe(stack, app)).toBe(true);
    const rolling = await hookEntry(stack, 'smoke-bad', 'check', 'smoke', 'rollout.rolling_back');
    expect(rolling.result).toMatchObject({ status: 'failed', code: 200, attempts: 1 });
    expect((await eventFor(stack, 'smoke-bad', rolling.entry)).hooks).toEqual([rolling.result]);
    expect(smoke.runs.filter((r) => r.rolloutId === 'smoke-bad').map((r) => [r.result, r.errors])).toEqual([
      ['fail', 20],
    ]);
    expect(smoke.refused()).toBe(0);
  }, 240_000);
});

describe('a slow, failing onRollback hook', () => {
  it('does not delay the rollback: the route is safe before the hook answers, and as soon as without hooks', async () => {
    const hookDelayMs = 6000;
    const hooked = stack.app('rb-hooked');
    const plain = stack.app('rb-plain');
    const server = await hookServer();
    server.setDefault({ delayMs: hookDelayMs, status: 500, body: 'pager is down' });
    await publish(hooked, {
      rolloutId: 'rb-hooked',
      steps: [{ weight: 10, hold: '1h' }],
      hooks: { onRollback: [{ name: 'page', url: server.url, timeout: '10s', retries: 0 }] },
    });
    await publish(plain, { rolloutId: 'rb-plain', steps: [{ weight: 10, hold: '1h' }] });
    await state(stack, 'rb-hooked', liveAt(10), 'canary 10 % live');
    await state(stack, 'rb-plain', liveAt(10), 'canary 10 % live');

    // Both alerts at once; the route of each is read every 20 ms until it carries no canary traffic.
    const safeAt = new Map<string, number>();
    const watch = setInterval(() => {
      for (const app of [hooked, plain]) {
        if (!safeAt.has(app.name) && routeSafe(stack, app)) safeAt.set(app.name, Date.now());
      }
    }, 20);
    const raisedAt = Date.now();
    try {
      await Promise.all([raiseAlert(stack, 'rb-hooked', hooked), raiseAlert(stack, 'rb-plain', plain)]);
      await until('both routes safe', () => safeAt.size === 2, 60_000, 50);
    } finally {
      clearInterval(watch);
    }
    const call = await until('the onRollback hook answered', () => server.calls[0]?.answeredAt, 60_000, 50);
    const hookedSafe = (safeAt.get(hooked.name) ?? Number.NaN) - raisedAt;
    const plainSafe = (safeAt.get(plain.name) ?? Number.NaN) - raisedAt;
    const timing = `hooked route safe after ${hookedSafe} ms, plain after ${plainSafe} ms, hook answered after ${call - raisedAt} ms`;
    // The route was safe before the hook answered, and not later than without hooks by the hook's time.
    expect(safeAt.get(hooked.name), timing).toBeLessThan(call);
    expect(hookedSafe, timing).toBeLessThan(plainSafe + hookDelayMs);

    for (const id of ['rb-hooked', 'rb-plain']) {
      const done = await state(stack, id, (r) => r.status.phase === 'RolledBack', 'RolledBack');
      expect(done.status).toMatchObject({ cause: { kind: 'alert' } });
    }
    const notified = await hookEntry(stack, 'rb-hooked', 'onRollback', 'page', 'rollout.hook_notified');
    expect(notified.result).toMatchObject({ status: 'failed', code: 500, excerpt: 'pager is down' });
    expect(notified.result.durationMs).toBeGreaterThanOrEqual(hookDelayMs);
    expect(notified.entry.to.phase).toBe('RolledBack');
    // RolledBack was recorded before the hook had answered; its result came after, changing nothing.
    const history = await stack.store.history('rb-hooked');
    const rolledBack = history.find((h) => h.to.phase === 'RolledBack' && h.from.phase !== 'RolledBack');
    expect(rolledBack?.at ?? Number.POSITIVE_INFINITY).toBeLessThan(call);
    expect(rolledBack?.version ?? Number.POSITIVE_INFINITY).toBeLessThan(notified.entry.version);
    expect((await stack.store.get('rb-hooked'))?.status.phase).toBe('RolledBack');
    expect(tokenProblems(server.calls, server.origin, stack.cloud.hooksServiceAccount)).toEqual([]);
    expect(server.calls[0]?.body).toMatchObject({ kind: 'onRollback', hook: 'page', phase: 'RollingBack' });
    await until('the hook_notified event', () =>
      eventsOf(stack, 'rb-hooked').find((e) => e.type === 'rollout.hook_notified'),
    );
  }, 240_000);
});

describe('requests with bad hooks (local URL policy)', () => {
  it('are rejected with a message naming the field; nothing is created and the route is untouched', async () => {
    const app = stack.app('bad-hooks');
    const before = JSON.stringify(stack.route(app));
    const ok = 'http://127.0.0.1:9/hook';
    const cases: { id: string; hooks: RolloutRequestInput['hooks']; field: string; rule: RegExp }[] = [
      {
        id: 'bad-metadata-address',
        hooks: { onRollback: [{ name: 'meta', url: 'http://169.254.169.254/computeMetadata/v1/' }] },
        field: 'hooks.onRollback[0].url',
        rule: /must not point at the metadata server/,
      },
      {
        id: 'bad-metadata-name',
        hooks: { preRollout: [{ name: 'meta', url: 'http://metadata.google.internal/computeMetadata/v1/' }] },
        field: 'hooks.preRollout[0].url',
        rule: /must not point at the metadata server/,
      },
      {
        id: 'bad-credentials',
        hooks: { postRollout: [{ name: 'chat', url: 'http://bot:hunter2@127.0.0.1:9/hook' }] },
        field: 'hooks.postRollout[0].url',
        rule: /must not carry a user or password/,
      },
      {
        id: 'bad-timeout',
        hooks: { check: [{ name: 'smoke', url: ok, timeout: '10h' }] },
        field: 'hooks.check[0].timeout',
        rule: /must be between 1s and 300s/,
      },
      {
        id: 'bad-retries',
        hooks: { preStep: [{ name: 'gate', url: ok, retries: 50 }] },
        field: 'hooks.preStep[0].retries',
        rule: /must be at most 10/,
      },
      {
        id: 'bad-too-many',
        hooks: {
          preRollout: manyHooks('a', 5, ok),
          preStep: manyHooks('b', 5, ok),
          check: manyHooks('c', 5, ok),
          postRollout: manyHooks('d', 5, ok),
          onRollback: manyHooks('e', 1, ok),
        },
        field: 'hooks',
        rule: /must contain at most 20 hooks in all/,
      },
      {
        id: 'bad-per-point',
        hooks: { confirmPromotion: manyHooks('f', 6, ok) },
        field: 'hooks.confirmPromotion',
        rule: /must contain at most 5 hooks/,
      },
      {
        id: 'bad-duplicate',
        hooks: { preRollout: [{ name: 'same', url: ok }], postRollout: [{ name: 'same', url: ok }] },
        field: 'hooks.postRollout[0].name',
        rule: /must be unique/,
      },
    ];
    const published = await Promise.all(
      cases.map((c) =>
        publish(app, { rolloutId: c.id, steps: [{ weight: 10, hold: '1h' }], hooks: c.hooks }),
      ),
    );
    for (const [i, c] of cases.entries()) {
      const line = await rejection(stack, published[i] ?? '');
      expect(line.message, c.id).toContain(c.field);
      expect(line.fields, c.id).toMatchObject({ code: 'INVALID_REQUEST' });
      expect(line.fields['problems'], c.id).toContainEqual({
        field: c.field,
        rule: expect.stringMatching(c.rule),
      });
      expect(await stack.store.get(c.id), c.id).toBeNull();
      expect(eventsOf(stack, c.id), c.id).toEqual([]);
    }
    // The password in a rejected URL is never logged.
    expect(stack.logs.filter((l) => JSON.stringify(l.fields).includes('hunter2'))).toEqual([]);
    expect(JSON.stringify(stack.route(app))).toBe(before);
  }, 120_000);
});
