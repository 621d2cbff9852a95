/**
 * Every hook point against every way a hook can answer, end to end: requests published to
 * Pub/Sub, driven by the functions and the workflow runner on the local cloud, each hook served
 * by a real local HTTP service (test/support/hook-server.ts) that verifies the Google-signed
 * (local IAM stand-in) OIDC token it receives.
 *
 * One rollout per cell (point × behaviour), each on an app (route) of its own so all cells of a
 * point run at once. Each cell asserts the documented behaviour (docs/hooks.md, "When each hook
 * is called"), the result in history (status, code, bounded excerpt, attempts) and in the
 * lifecycle event of that entry, and what the target received (token, headers, body).
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { HookPoint, HookResult } from '../../functions/core/hooks.ts';
import { HOOK_EXCERPT_CHARS } from '../../functions/core/hooks.ts';
import type { RolloutRequestInput } from '../../functions/core/request.ts';
import type { HistoryEntry, Rollout } from '../../functions/core/state.ts';
import { TOPICS } from '../../functions/manifest.ts';
import type { DemoApp } from '../../local/demo-apps.ts';
import { freePort } from '../../local/net.ts';
import {
  canaryOnRoute,
  control,
  type ExpectedResult,
  eventFor,
  HOOKS_ALERT_POLICY,
  hookEntry,
  raiseAlert,
  state,
  tokenProblems,
} from '../support/hook-e2e.ts';
import { type HookAnswer, type HookServer, startHookServer } from '../support/hook-server.ts';
import { type Stack, startStack } from '../support/stack.ts';

const TIME_SCALE = 20;
const BEHAVIOURS = ['pass', 'fail', 'timeout', 'unreachable', 'slow', 'oversized', 'notjson'] as const;
type Behaviour = (typeof BEHAVIOURS)[number];
const KINDS: Record<HookPoint, string> = {
  preRollout: 'prerollout',
  preStep: 'prestep',
  check: 'check',
  confirmPromotion: 'confirm',
  postRollout: 'postrollout',
  onRollback: 'onrollback',
};
const POINTS = Object.keys(KINDS) as HookPoint[];

/** How each cell's target answers (the timeout cell retries once). */
const ANSWERS: Record<Exclude<Behaviour, 'unreachable'>, (hook: string) => HookAnswer> = {
  pass: () => ({ status: 200, body: { ok: true } }),
  fail: (hook) => ({ status: 500, body: `boom from ${hook}` }),
  timeout: () => ({ delayMs: 6000, body: { ok: true } }),
  slow: () => ({ bodyDelayMs: 6000, body: { ok: true, padding: 'late' } }),
  oversized: () => ({ oversizedBytes: 100 * 1024 }),
  notjson: () => ({ body: '{"result": pa', contentType: 'application/json' }),
};

const EXPECTED: Record<Behaviour, ExpectedResult> = {
  pass: { status: 'passed', code: 200, excerpt: /^\{"ok":true\}$/, attempts: 1 },
  fail: { status: 'failed', code: 500, excerpt: /^boom from [a-z-]+$/, attempts: 1 },
  timeout: { status: 'timeout', code: null, excerpt: /no complete answer within 2000 ms/, attempts: 2 },
  unreachable: { status: 'unreachable', code: null, excerpt: /no connection: ECONNREFUSED/, attempts: 1 },
  slow: { status: 'timeout', code: null, excerpt: /no complete answer within 2000 ms/, attempts: 1 },
  oversized: { status: 'invalidAnswer', code: 200, excerpt: /^answer over the size limit: x+$/, attempts: 1 },
  notjson: {
    status: 'invalidAnswer',
    code: 200,
    excerpt: /^declared JSON that does not parse: \{"result": pa$/,
    attempts: 1,
  },
};

interface Cell {
  readonly point: HookPoint;
  readonly behaviour: Behaviour;
  /** Rollout id, app and hook name: `<point>-<behaviour>`. */
  readonly name: string;
  readonly app: DemoApp;
  readonly server: HookServer | null;
  readonly url: string;
}

let stack: Stack;
const cells = new Map<string, Cell>();
const servers: HookServer[] = [];
const names = (point: HookPoint) => BEHAVIOURS.map((b) => `${KINDS[point]}-${b}`);

beforeAll(async () => {
  stack = await startStack({
    project: 'e2e-hooks',
    apps: POINTS.flatMap(names),
    timeScale: TIME_SCALE,
    // Alerts are published by the test (onRollback cells); no evaluator racing it.
    cloud: { alerts: false },
    controller: { env: { KNOWN_ALERT_POLICIES: HOOKS_ALERT_POLICY } },
  });
  const closedPort = await freePort();
  for (const point of POINTS) {
    for (const behaviour of BEHAVIOURS) {
      const name = `${KINDS[point]}-${behaviour}`;
      let server: HookServer | null = null;
      if (behaviour !== 'unreachable') {
        server = await startHookServer({ jwksUrl: stack.cloud.iam.jwksUrl });
        server.setDefault(ANSWERS[behaviour](name));
        servers.push(server);
      }
      const url = server?.url ?? `http://127.0.0.1:${closedPort}/hook`;
      cells.set(name, { point, behaviour, name, app: stack.app(name), server, url });
    }
  }
}, 180_000);

afterAll(async () => {
  await Promise.allSettled(servers.map((s) => s.close()));
  await stack?.stop();
});

function cell(point: HookPoint, behaviour: Behaviour): Cell {
  const found = cells.get(`${KINDS[point]}-${behaviour}`);
  if (found === undefined) throw new Error(`no cell ${point} ${behaviour}`);
  return found;
}

function hookSpec(c: Cell): Record<string, unknown> {
  const late = c.behaviour === 'timeout' || c.behaviour === 'slow';
  // A late answer is cut off after 2 s (it comes after 6 s); a prompt one gets the default 10 s,
  // which it never needs but which a loaded machine cannot turn into a timeout.
  const base = {
    name: c.name,
    url: c.url,
    timeout: late ? '2s' : '10s',
    retries: c.behaviour === 'timeout' ? 1 : 0,
  };
  if (c.point === 'preStep' || c.point === 'confirmPromotion') {
    return { ...base, failAfter: '0s', onFailure: 'pause' };
  }
  return c.point === 'check' ? { ...base, failureLimit: 1 } : base;
}

function publish(c: Cell, overrides: Partial<RolloutRequestInput>): Promise<string> {
  const hooks = { [c.point]: [hookSpec(c)] } as RolloutRequestInput['hooks'];
  return stack.controller.publish(
    TOPICS.requests,
    stack.request(c.app, { rolloutId: c.name, ...overrides, ...(hooks ? { hooks } : {}) }),
  );
}

type Expect = typeof import('vitest').expect;

/** The recorded result is what the cell's target answered, and it is in the entry's lifecycle event. */
async function recorded(expect: Expect, c: Cell, found: { entry: HistoryEntry; result: HookResult }) {
  const want = EXPECTED[c.behaviour];
  expect(found.result, `${c.name}: ${JSON.stringify(found.result)}`).toMatchObject({
    point: c.point,
    hook: c.name,
    status: want.status,
    code: want.code,
    attempts: want.attempts,
  });
  expect(found.result.excerpt, c.name).toMatch(want.excerpt);
  expect(found.result.excerpt.length, c.name).toBeLessThanOrEqual(HOOK_EXCERPT_CHARS);
  if (c.behaviour === 'oversized') expect(found.result.excerpt.length).toBe(HOOK_EXCERPT_CHARS);
  const event = await eventFor(stack, c.name, found.entry);
  expect(event.type, c.name).toBe(found.entry.event);
  expect(event.hooks, c.name).toContainEqual(found.result);
}

/** What the body of the cell's calls must say besides kind, hook, rollout and attempt. */
type BodyShape = Readonly<Record<string, unknown>>;

/** Each call carried a verified token for the target's origin, the documented headers and body. */
function received(expect: Expect, c: Cell, shape: BodyShape): void {
  if (c.server === null) return;
  const calls = c.server.calls;
  expect(calls.length, c.name).toBeGreaterThanOrEqual(EXPECTED[c.behaviour].attempts);
  expect(tokenProblems(calls, c.server.origin, stack.cloud.hooksServiceAccount), c.name).toEqual([]);
  const retries = c.behaviour === 'timeout' ? 1 : 0;
  for (const call of calls) {
    expect(call.method, c.name).toBe('POST');
    expect(call.headers['x-rollout-id'], c.name).toBe(c.name);
    expect(call.headers['content-type'], c.name).toBe('application/json');
    expect(call.headers['user-agent'], c.name).toMatch(/^gcp-canary-controller\//);
    expect(call.body, `${c.name}: ${JSON.stringify(call.body)}`).toEqual({
      schemaVersion: 1,
      kind: c.point,
      hook: c.name,
      rolloutId: c.name,
      route: c.app.route,
      routes: [c.app.route],
      stable: c.app.stable,
      canary: c.app.canary,
      attempt: expect.any(Number),
      ...shape,
    });
  }
  // Attempts count 1 … 1 + retries within each call (a call may be made twice by racing drivers).
  const attempts = [...new Set(calls.map((call) => (call.body as { attempt?: unknown }).attempt))].sort();
  expect(attempts, c.name).toEqual(Array.from({ length: retries + 1 }, (_, i) => i + 1));
  // One key per rollout, point, hook and step: every attempt and every repeated call carries it.
  const keys = new Set(calls.map((call) => call.headers['idempotency-key']));
  expect([...keys], c.name).toEqual([expect.stringMatching(/^[0-9a-f]{40}$/)]);
}

/** Runs every behaviour of a point at once; reports every cell that failed, by name. */
async function eachBehaviour(expect: Expect, point: HookPoint, run: (c: Cell) => Promise<void>) {
  const settled = await Promise.allSettled(BEHAVIOURS.map((b) => run(cell(point, b))));
  const failures = settled.flatMap((s, i) =>
    s.status === 'rejected' ? [`${point}/${BEHAVIOURS[i]}: ${(s.reason as Error).message}`] : [],
  );
  expect(failures).toEqual([]);
}

const weightLive = (canary: number) => (r: Rollout) => r.weights.canary === canary && r.intent === null;

async function abort(c: Cell): Promise<void> {
  await control(stack, c.name, 'abort', 'cell done');
  await state(stack, c.name, (r) => r.status.phase === 'Aborted', 'Aborted');
}

const ONE_STEP = [{ weight: 10, hold: '1h' }];
const AT_STEP_ONE = { weights: { stable: 100, canary: 0 }, step: 1 };

describe.concurrent('each hook point against each way a hook answers', () => {
  it('preRollout: passed lets traffic move; anything else ends Failed with the answer, the route byte for byte as it was', async ({
    expect,
  }) => {
    await eachBehaviour(expect, 'preRollout', async (c) => {
      const before = JSON.stringify(stack.route(c.app));
      await publish(c, { steps: ONE_STEP });
      if (c.behaviour === 'pass') {
        await recorded(
          expect,
          c,
          await hookEntry(stack, c.name, 'preRollout', c.name, 'rollout.hook_passed'),
        );
        await state(stack, c.name, weightLive(10), 'canary 10 % live');
        received(expect, c, { phase: 'Pending', ...AT_STEP_ONE, nextWeights: null });
        await abort(c);
        return;
      }
      const failed = await hookEntry(stack, c.name, 'preRollout', c.name, 'rollout.failed');
      await recorded(expect, c, failed);
      const r = await state(stack, c.name, (x) => x.status.phase === 'Failed', 'Failed');
      const x = failed.result;
      const code = x.code === null ? '' : ` (HTTP ${x.code})`;
      expect(r.status, c.name).toEqual({
        phase: 'Failed',
        error: `preRollout hook ${c.name}: ${x.status}${code}: ${x.excerpt}`,
      });
      expect(r.weights, c.name).toEqual({ stable: 100, canary: 0 });
      const history = await stack.store.history(c.name);
      expect(
        history.filter((h) => h.intent !== null),
        c.name,
      ).toEqual([]);
      expect(await stack.operations(c.name), c.name).toEqual([]);
      expect(JSON.stringify(stack.route(c.app)), c.name).toBe(before);
      received(expect, c, { phase: 'Pending', ...AT_STEP_ONE, nextWeights: null });
    });
  }, 240_000);

  it('preStep: passed applies the step; anything else (failAfter 0s, onFailure pause) pauses with reason hook, no traffic moved', async ({
    expect,
  }) => {
    await eachBehaviour(expect, 'preStep', async (c) => {
      const before = JSON.stringify(stack.route(c.app));
      await publish(c, { steps: ONE_STEP });
      const shape = { phase: 'Pending', ...AT_STEP_ONE, nextWeights: { stable: 90, canary: 10 } };
      if (c.behaviour === 'pass') {
        await recorded(expect, c, await hookEntry(stack, c.name, 'preStep', c.name, 'rollout.hook_passed'));
        await state(stack, c.name, weightLive(10), 'canary 10 % live');
        expect(canaryOnRoute(stack, c.app), c.name).toBe(10);
        received(expect, c, shape);
        await abort(c);
        return;
      }
      const paused = await hookEntry(stack, c.name, 'preStep', c.name, 'rollout.paused');
      await recorded(expect, c, paused);
      const r = await state(stack, c.name, (x) => x.status.phase === 'Paused', 'Paused');
      expect(r.status, c.name).toMatchObject({
        phase: 'Paused',
        step: 0,
        reason: { kind: 'hook', point: 'preStep', hook: c.name, status: EXPECTED[c.behaviour].status },
      });
      expect(r.weights, c.name).toEqual({ stable: 100, canary: 0 });
      expect(JSON.stringify(stack.route(c.app)), c.name).toBe(before);
      received(expect, c, shape);
      await abort(c);
    });
  }, 240_000);

  it('check: passed no longer holds the step; failed rolls back (cause hook); anything else is inconclusive, never a pass, and called again', async ({
    expect,
  }) => {
    await eachBehaviour(expect, 'check', async (c) => {
      await publish(c, { steps: ONE_STEP });
      const shape = { phase: 'Progressing', step: 1, weights: { stable: 90, canary: 10 }, nextWeights: null };
      if (c.behaviour === 'pass') {
        await recorded(expect, c, await hookEntry(stack, c.name, 'check', c.name, 'rollout.hook_passed'));
        const r = await stack.store.get(c.name);
        expect(r?.hookState?.checks?.passed, c.name).toEqual([c.name]);
        received(expect, c, shape);
        await abort(c);
        return;
      }
      if (c.behaviour === 'fail') {
        await recorded(expect, c, await hookEntry(stack, c.name, 'check', c.name, 'rollout.rolling_back'));
        const r = await state(stack, c.name, (x) => x.status.phase === 'RolledBack', 'RolledBack');
        expect(r.status, c.name).toMatchObject({
          phase: 'RolledBack',
          cause: { kind: 'hook', point: 'check', hook: c.name, status: 'failed' },
        });
        expect(canaryOnRoute(stack, c.app), c.name).toBe(0);
        received(expect, c, shape);
        return;
      }
      const found = await hookEntry(stack, c.name, 'check', c.name, 'rollout.hook_inconclusive');
      await recorded(expect, c, found);
      // Called again after the backoff (10 s plan time), still in the step, never counted as passed.
      const again = await state(
        stack,
        c.name,
        (x) => (x.hookState?.checks?.attempts ?? 0) >= 2,
        'a second inconclusive round',
      );
      expect(again.status, c.name).toMatchObject({ phase: 'Progressing', step: 0 });
      expect(again.hookState?.checks?.passed, c.name).toEqual([]);
      expect(again.hookState?.checks?.failures, c.name).toEqual({});
      received(expect, c, shape);
      await abort(c);
    });
  }, 240_000);

  it('confirmPromotion: passed promotes; anything else (failAfter 0s, onFailure pause) pauses before 100 % keeping the weights', async ({
    expect,
  }) => {
    await eachBehaviour(expect, 'confirmPromotion', async (c) => {
      stack.load(c.app, 30);
      await publish(c, { steps: [{ weight: 50, hold: '0s' }], analysis: { minRequests: 10 } });
      const shape = {
        phase: 'Progressing',
        step: null,
        weights: { stable: 50, canary: 50 },
        nextWeights: { stable: 0, canary: 100 },
      };
      if (c.behaviour === 'pass') {
        const passed = await hookEntry(
          stack,
          c.name,
          'confirmPromotion',
          c.name,
          'rollout.hook_passed',
          150_000,
        );
        await recorded(expect, c, passed);
        const r = await state(stack, c.name, (x) => x.status.phase === 'Succeeded', 'Succeeded', 150_000);
        expect(r.weights, c.name).toEqual({ stable: 0, canary: 100 });
        received(expect, c, shape);
        return;
      }
      const paused = await hookEntry(stack, c.name, 'confirmPromotion', c.name, 'rollout.paused', 150_000);
      await recorded(expect, c, paused);
      const r = await state(stack, c.name, (x) => x.status.phase === 'Paused', 'Paused');
      expect(r.status, c.name).toMatchObject({
        phase: 'Paused',
        reason: {
          kind: 'hook',
          point: 'confirmPromotion',
          hook: c.name,
          status: EXPECTED[c.behaviour].status,
        },
      });
      expect(r.weights, c.name).toEqual({ stable: 50, canary: 50 });
      expect(canaryOnRoute(stack, c.app), c.name).toBe(50);
      received(expect, c, shape);
      await abort(c);
    });
  }, 300_000);

  it('postRollout: recorded after Succeeded whatever it answers; Succeeded stays', async ({ expect }) => {
    await eachBehaviour(expect, 'postRollout', async (c) => {
      await publish(c, { steps: [{ gate: 'manual', note: 'promote me' }, ...ONE_STEP] });
      await state(stack, c.name, (r) => r.status.phase === 'Paused', 'Paused at the gate');
      await control(stack, c.name, 'promote', 'ship it');
      await state(stack, c.name, (r) => r.status.phase === 'Succeeded', 'Succeeded');
      const notified = await hookEntry(stack, c.name, 'postRollout', c.name, 'rollout.hook_notified');
      await recorded(expect, c, notified);
      expect(notified.entry.to.phase, c.name).toBe('Succeeded');
      const r = await stack.store.get(c.name);
      expect(r?.status.phase, c.name).toBe('Succeeded');
      expect(r?.weights, c.name).toEqual({ stable: 0, canary: 100 });
      expect(canaryOnRoute(stack, c.app), c.name).toBe(100);
      received(expect, c, {
        phase: 'Succeeded',
        step: null,
        weights: { stable: 0, canary: 100 },
        nextWeights: null,
      });
    });
  }, 240_000);

  it('onRollback: recorded when an alert rolls back whatever it answers; RolledBack stays', async ({
    expect,
  }) => {
    await eachBehaviour(expect, 'onRollback', async (c) => {
      await publish(c, { steps: ONE_STEP });
      await state(stack, c.name, weightLive(10), 'canary 10 % live');
      await raiseAlert(stack, c.name, c.app);
      const done = await state(stack, c.name, (r) => r.status.phase === 'RolledBack', 'RolledBack');
      expect(done.status, c.name).toMatchObject({ cause: { kind: 'alert' } });
      const notified = await hookEntry(stack, c.name, 'onRollback', c.name, 'rollout.hook_notified');
      await recorded(expect, c, notified);
      expect(notified.entry.to.phase, c.name).toBe('RolledBack');
      const r = await stack.store.get(c.name);
      expect(r?.status.phase, c.name).toBe('RolledBack');
      expect(canaryOnRoute(stack, c.app), c.name).toBe(0);
      received(expect, c, {
        phase: 'RollingBack',
        step: null,
        weights: { stable: 90, canary: 10 },
        nextWeights: null,
      });
    });
  }, 240_000);
});
