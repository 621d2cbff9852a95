/**
 * Firestore goes away (every function's connection to it reset and refused) and the controller
 * still does the two things that must not wait: a canary whose alert opens is taken out of the
 * route, and an operator's late command is answered, not dropped. Forward steps wait for the store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotOf } from '../../functions/adapters/route-rules.ts';
import { routesTo } from '../../functions/core/routing/snapshot.ts';
import { TOPICS } from '../../functions/manifest.ts';
import { LOCAL_IDENTITIES } from '../../local/identities.ts';
import { eventsOf, type Stack, startStack } from '../support/stack.ts';

const TIME_SCALE = 20;
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    project: 'e2e-outage',
    apps: ['fa', 'fb'],
    timeScale: TIME_SCALE,
    cloud: { operationDelayMs: 150 }, // 3 s of scaled time
    firestoreOutage: true,
  });
});
afterAll(() => stack.stop());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('while Firestore cannot be reached', () => {
  it('an alert takes the canary out of the route at once, and the rollback is recorded when Firestore returns', async () => {
    const app = stack.app('fa');
    stack.load(app);
    await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, {
        rolloutId: 'outage-alert',
        steps: [{ weight: 30, hold: '10m' }],
        // Ten-minute windows: the alert (minutes behind the traffic, as on Google) acts first.
        analysis: { interval: '10m', minRequests: 10 },
      }),
    );
    await stack.waitFor('outage-alert', (r) => r.weights.canary === 30 && r.intent === null);
    const before = await stack.store.history('outage-alert');
    const outageStarted = Date.now();
    stack.firestore?.setDown(true);
    stack.cloud.backends.get(app.canaryService)?.setBehaviour({ errorRatio: 0.7 });
    // The alert opens (evaluated every 5 s) and is delivered to onAlert, which cannot reach Firestore.
    const canaryOut = await poll(
      () => !snapshotOf(stack.route(app)).rules.some((r) => routesTo(r, app.canary)),
      40_000,
    );
    const tookOut = () => stack.logs.find((l) => l.fn === 'onAlert' && l.message.includes('took the canary'));
    await poll(() => tookOut() !== undefined, 5000);
    const takenOut = tookOut();
    expect(takenOut?.severity).toBe('WARNING');
    const received = stack.logs.find((l) => l.fn === 'onAlert' && / open$/.test(l.message));
    const deliveredToOut = canaryOut - Date.parse(String(received?.fields['time']));
    // Still down: at least 60 s of scaled time in all.
    await sleep(Math.max(0, 60_000 / TIME_SCALE - (Date.now() - outageStarted)) + 500);
    expect(stack.firestore?.down).toBe(true);
    stack.cloud.backends.get(app.canaryService)?.setBehaviour({ errorRatio: 0 });
    stack.firestore?.setDown(false);

    const done = await stack.waitForTerminal('outage-alert', 90_000);
    expect(done.status).toMatchObject({ phase: 'RolledBack', cause: { kind: 'alert' } });
    const history = await stack.store.history('outage-alert');
    // The incident may close (the canary serves nothing any more) after the open one is
    // recorded: that is recorded too (once), and changes nothing.
    const since = history.slice(before.length).filter((h) => h.event !== 'rollout.alert_closed');
    expect(since.map((h) => h.event)).toEqual(['rollout.rolling_back', 'rollout.rolled_back']);
    expect(since[0]?.actor).toMatch(/^alert:/);
    expect(since[1]?.reason).toMatch(/already sent the canary nothing .* could not reach Firestore/);
    expect(since.some((h) => h.event === 'rollout.weights_applying')).toBe(false);
    await expect
      .poll(() => eventsOf(stack, 'outage-alert').at(-1)?.type, { timeout: 10_000 })
      .toBe('rollout.rolled_back');
    // The store deadline (1 s here), one route operation (150 ms) and the 25 ms poll.
    expect(deliveredToOut).toBeGreaterThan(0);
    expect(deliveredToOut).toBeLessThan(2500);
    console.log(`alert delivered → canary out of the route with Firestore down: ${deliveredToOut} ms`);
  });

  it('an abort delayed past the rollout’s success by an outage is answered with what happened and when', async () => {
    const app = stack.app('fb');
    stack.load(app);
    await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, {
        rolloutId: 'outage-late-abort',
        steps: [{ weight: 20, hold: '0s' }, { gate: 'manual' }, { weight: 50, hold: '0s' }],
      }),
    );
    await stack.waitFor('outage-late-abort', (r) => r.status.phase === 'Paused');
    // Firestore is out of reach of the control function only (a partition): the abort hangs and
    // fails there; Pub/Sub delivers it again with growing backoff.
    stack.firestore?.setDown(true, ['control']);
    const abortPublished = Date.now();
    await stack.controller.publish(TOPICS.control, {
      rolloutId: 'outage-late-abort',
      command: 'abort',
      actor: 'ann@example.com',
      reason: 'stop it',
    });
    await sleep(1000);
    // Meanwhile another operator promotes it over HTTP, and it succeeds before the abort comes back.
    const promoted = await fetch(stack.controller.functions.get('controlHttp')?.url ?? '', {
      method: 'POST',
      headers: stack.authorized(LOCAL_IDENTITIES.oncall),
      body: JSON.stringify({
        rolloutId: 'outage-late-abort',
        command: 'promote',
        actor: 'bo@example.com',
        reason: 'ok',
      }),
    });
    expect(promoted.status).toBe(200);
    await stack.waitForTerminal('outage-late-abort', 60_000);
    stack.firestore?.setDown(false, ['control']);
    await poll(
      async () =>
        (await stack.store.history('outage-late-abort')).some((h) => h.event === 'rollout.command_overtaken'),
      60_000,
    );
    const history = await stack.store.history('outage-late-abort');
    expect(history.at(-2)?.event).toBe('rollout.succeeded');
    const overtaken = history.at(-1);
    expect(overtaken).toMatchObject({
      event: 'rollout.command_overtaken',
      actor: 'operator:ann@example.com',
    });
    const issued = /issued at (\S+), (\d+)s before it arrived/.exec(overtaken?.reason ?? '');
    expect(Math.abs(Date.parse(issued?.[1] ?? '') - abortPublished)).toBeLessThan(2000);
    expect(overtaken?.reason).toMatch(
      /it is Succeeded since .*terminal phases never change; nothing was changed/,
    );
    await expect
      .poll(() => eventsOf(stack, 'outage-late-abort').some((e) => e.type === 'rollout.command_overtaken'), {
        timeout: 10_000,
      })
      .toBe(true);
    expect(
      stack.logs.some(
        (l) => l.severity === 'WARNING' && l.message.startsWith('abort by operator:ann@example.com'),
      ),
    ).toBe(true);
  });
});

/** Polls until `check` holds; returns when it first did. */
async function poll(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await sleep(25);
  }
  return Date.now();
}
