/**
 * One release across several routes, end to end through Pub/Sub, the functions, the Network
 * Services stand-in and the local mesh: an HTTPRoute and a GRPCRoute of one application move as
 * one — step by step with the split measured through the mesh on both (HTTP requests and gRPC
 * calls) within 99.9% binomial bounds, a bad canary rolled back on both, the drivers dying between
 * the two routes' writes of one step (before the second PATCH is sent, or while it is under way
 * and lands unwatched) recovered with both routes and the state agreeing and no route written
 * twice (PATCHes counted per route on the stand-in), a hand edit on one
 * route pausing the whole release with the edit kept — and requests naming a route outside the
 * allowlist or of an unknown kind rejected with nothing touched.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RolloutRequestInput } from '../../functions/core/request.ts';
import { type HistoryEntry, isTerminal } from '../../functions/core/state.ts';
import { TOPICS } from '../../functions/manifest.ts';
import { allRoutes, grpcSide, type ProtocolSide } from '../support/protocol-sides.ts';
import {
  binomialCheck,
  followWrites,
  type RouteWrites,
  type Split,
  splitOf,
  until,
} from '../support/release.ts';
import { type HttpSide, httpSide, type Side } from '../support/sides.ts';
import { type Stack, startStack } from '../support/stack.ts';

const PROJECT = 'e2e-releases';
const APPS = ['rel-promote', 'rel-bad', 'rel-crash', 'rel-landed', 'rel-edit', 'rel-reject'];
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    project: PROJECT,
    apps: APPS,
    cloud: { protocols: true },
    controller: { env: { ALLOWED_ROUTES: allRoutes(PROJECT, APPS) } },
  });
});
afterAll(async () => {
  await Promise.all(stops.map((stop) => stop()));
  await stack.stop();
});

const stops: (() => Promise<void>)[] = [];
/** Functions a test killed and has not started again (restarted after a failing test too). */
const killed: string[] = [];

async function restartKilled(): Promise<void> {
  await Promise.all(killed.splice(0).map((name) => stack.controller.restart(name)));
}
afterEach(restartKilled);

interface ReleaseSides {
  readonly http: HttpSide;
  readonly grpc: ProtocolSide;
  readonly analysis: RolloutRequestInput['analysis'];
}

function sides(name: string): ReleaseSides {
  const app = stack.app(name);
  const grpc = grpcSide(stack, app, stops);
  // The canary is judged on its gRPC calls' grpc-status (Cloud Run's request metrics would count
  // a failed call as an HTTP 200); its HTTP 5xx are watched by the app's Monitoring alert.
  return { http: httpSide(stack, app), grpc, analysis: { minRequests: 10, metrics: grpc.metrics } };
}

/** The release request: the HTTPRoute first, then the GRPCRoute, each with its own backends. */
function releaseRequest(s: ReleaseSides, overrides: Partial<RolloutRequestInput>): RolloutRequestInput {
  const { route: _route, ...base } = stack.request(s.http.app, {});
  return {
    ...base,
    targets: [{ route: s.http.route }, { route: s.grpc.route, stable: s.grpc.stable, canary: s.grpc.canary }],
    stable: s.http.stable,
    canary: s.http.canary,
    analysis: s.analysis,
    ...overrides,
  };
}

/** Traffic on both sides for the whole test (the analysis judges it). */
function loadBoth(s: ReleaseSides): void {
  stack.load(s.http.app, 60);
  s.grpc.load(60);
}

function routeOf(side: Side): unknown {
  return stack.cloud.networkServices.store.route(side.route);
}

function splitNow(side: Side): Split | null {
  const route = stack.cloud.networkServices.store.route(side.route);
  return route === null ? null : splitOf(route, side.stable, side.canary);
}

/** Measures `n` requests (or calls) through the mesh on one side and checks the canary's share. */
async function expectMeasuredShare(side: Side, canaryPercent: number, label: string, n = 400): Promise<void> {
  const counts = await side.measure(n);
  const check = binomialCheck(counts.canary, counts.stable + counts.canary, canaryPercent / 100);
  expect(counts.other, `${label}: every answer came from stable or canary`).toBe(0);
  expect(check, `${label}: canary share ${counts.canary}/${n} against ${canaryPercent}%`).toMatchObject({
    ok: true,
  });
}

async function meshPropagated(label: string): Promise<void> {
  await until(
    () => stack.cloud.mesh.propagated(),
    () => `mesh clients never all took ${label}`,
  );
}

function entriesOfStep(history: readonly HistoryEntry[], step: number): HistoryEntry[] {
  return history.filter(
    (h) =>
      h.to.phase === 'Progressing' &&
      h.to.step === step &&
      (h.event === 'rollout.weights_applying' || h.event === 'rollout.weights_live'),
  );
}

/** Per step: written to the HTTPRoute, confirmed there, written to the GRPCRoute, confirmed, live. */
function expectBothConfirmedPerStep(
  history: readonly HistoryEntry[],
  s: ReleaseSides,
  weights: number[],
): void {
  weights.forEach((canary, step) => {
    const split = { stable: 100 - canary, canary };
    const [applying, firstConfirmed, live, ...more] = entriesOfStep(history, step);
    expect(more, `step ${step}: nothing after live`).toEqual([]);
    expect(applying).toMatchObject({
      event: 'rollout.weights_applying',
      intent: { purpose: 'step', weights: split },
    });
    expect(firstConfirmed).toMatchObject({
      event: 'rollout.weights_applying',
      intent: { purpose: 'step', weights: split },
    });
    expect(firstConfirmed?.reason).toContain(`route ${s.http.route} confirmed`);
    expect(firstConfirmed?.reason).toContain('(1 of 2 targets)');
    expect(firstConfirmed?.reason).toContain(`writing ${s.grpc.route}`);
    expect(live).toMatchObject({ event: 'rollout.weights_live', to: { weights: split }, intent: null });
  });
}

async function expectOperationsPerIntent(
  rolloutId: string,
  s: ReleaseSides,
  canaries: number[],
): Promise<void> {
  const operations = await stack.operations(rolloutId);
  for (const canary of canaries) {
    const of = operations.filter((op) => op.weights.canary === canary);
    expect(
      of.map((op) => [op.route, op.state]),
      `operations writing canary ${canary}%`,
    ).toEqual([
      [s.http.route, 'done'],
      [s.grpc.route, 'done'],
    ]);
  }
}

function expectWrittenOnce(writes: RouteWrites, s: ReleaseSides, splits: Split[], patches: number): void {
  for (const side of [s.http, s.grpc]) {
    expect(writes.splits(side.route), side.route).toEqual(splits);
    expect(writes.patches(side.route), side.route).toBe(patches);
  }
}

const ALL_STABLE: Split = { stable: 100, canary: 0 };
const ALL_CANARY: Split = { stable: 0, canary: 100 };

describe('a release across an HTTPRoute and a GRPCRoute', () => {
  it('promotes with both routes moving step by step, the split measured through the mesh on both at each step', async () => {
    const s = sides('rel-promote');
    const id = 'release-promote';
    const writes = followWrites(stack.cloud.networkServices.store, [s.http, s.grpc]);
    loadBoth(s);
    await meshPropagated('the seeded routes');
    await expectMeasuredShare(s.http, 0, 'HTTP before the release');
    await expectMeasuredShare(s.grpc, 0, 'gRPC before the release');
    const steps = [20, 50];
    await stack.controller.publish(
      TOPICS.requests,
      releaseRequest(s, {
        rolloutId: id,
        steps: steps.map((weight) => ({ weight, hold: '3m' })),
      }),
    );
    for (const weight of steps) {
      await stack.waitFor(id, (r) => r.weights.canary === weight && r.intent === null);
      expect([splitNow(s.http), splitNow(s.grpc)]).toEqual([
        { stable: 100 - weight, canary: weight },
        { stable: 100 - weight, canary: weight },
      ]);
      await meshPropagated(`the ${weight}% step`);
      await expectMeasuredShare(s.http, weight, `HTTP at ${weight}%`);
      await expectMeasuredShare(s.grpc, weight, `gRPC at ${weight}%`);
      // Measured while this step was still the one live.
      expect((await stack.store.get(id))?.weights.canary, `still at ${weight}% after measuring`).toBe(weight);
    }
    const done = await stack.waitForTerminal(id);
    expect(done.status.phase).toBe('Succeeded');
    expect([splitNow(s.http), splitNow(s.grpc)]).toEqual([ALL_CANARY, ALL_CANARY]);
    await meshPropagated('the promotion');
    await expectMeasuredShare(s.http, 100, 'HTTP after promotion');
    await expectMeasuredShare(s.grpc, 100, 'gRPC after promotion');

    const history = await stack.store.history(id);
    expectBothConfirmedPerStep(history, s, steps);
    await expectOperationsPerIntent(id, s, [...steps, 100]);
    expectWrittenOnce(
      writes,
      s,
      [ALL_STABLE, ...steps.map((c) => ({ stable: 100 - c, canary: c })), ALL_CANARY],
      steps.length + 1,
    );
    writes.stop();
  });

  it('rolls a bad canary back on both routes', async () => {
    const s = sides('rel-bad');
    const id = 'release-bad';
    loadBoth(s);
    await stack.controller.publish(
      TOPICS.requests,
      releaseRequest(s, { rolloutId: id, steps: [{ weight: 30, hold: '10m' }] }),
    );
    await stack.waitFor(id, (r) => r.weights.canary === 30 && r.intent === null);
    for (const side of [s.http, s.grpc]) side.setCanaryErrors(0.5);
    const done = await stack.waitForTerminal(id, 90_000);
    for (const side of [s.http, s.grpc]) side.setCanaryErrors(0);
    expect(done.status.phase).toBe('RolledBack');
    expect(done.weights).toEqual({ stable: 100, canary: 0 });
    expect([splitNow(s.http), splitNow(s.grpc)]).toEqual([ALL_STABLE, ALL_STABLE]);
    await meshPropagated('the rollback');
    await expectMeasuredShare(s.http, 0, 'HTTP after rollback');
    await expectMeasuredShare(s.grpc, 0, 'gRPC after rollback');
    const history = await stack.store.history(id);
    const rollback = history.filter((h) => h.intent?.purpose === 'rollback');
    expect(rollback.length).toBeGreaterThan(0);
    expect(history.at(-1)).toMatchObject({ event: 'rollout.rolled_back', to: { phase: 'RolledBack' } });
  });

  it('recovers from a driver crash between the two routes’ writes of a step: both routes and the state agree, no route written twice', async () => {
    const s = sides('rel-crash');
    const id = 'release-crash';
    const routes = stack.cloud.networkServices.store;
    loadBoth(s);
    // The drivers die once the HTTPRoute is confirmed at 40%, as they send the GRPCRoute's PATCH:
    // the PATCH is refused (never reaches the route), nobody is left to retry it.
    let crashed = false;
    const unhookCrash = routes.beforeRequest('patch', async (resource) => {
      if (crashed || resource !== s.grpc.route) return;
      const r = await stack.store.get(id);
      if (r?.intent?.weights.canary !== 40) return;
      crashed = true;
      killed.push('advanceRollout', 'advanceDue');
      for (const name of killed) stack.controller.functions.get(name)?.kill();
      throw new Error('driver crashed before this PATCH was sent');
    });
    const writes = followWrites(routes, [s.http, s.grpc]);
    await stack.controller.publish(
      TOPICS.requests,
      releaseRequest(s, {
        rolloutId: id,
        steps: [
          { weight: 10, hold: '0s' },
          { weight: 40, hold: '1m' },
        ],
      }),
    );
    await stack.waitFor(id, (r) => crashed || isTerminal(r.status.phase), 90_000).finally(unhookCrash);
    expect(crashed, 'the drivers were killed between the two writes of the 40% step').toBe(true);
    // Between the two writes: the HTTPRoute at 40%, the GRPCRoute still at 10%, the intent saying so.
    const between = await stack.store.get(id);
    expect(between?.intent).toMatchObject({ weights: { canary: 40 }, done: [0] });
    expect(between?.weights.canary).toBe(10);
    expect([splitNow(s.http), splitNow(s.grpc)]).toEqual([
      { stable: 60, canary: 40 },
      { stable: 90, canary: 10 },
    ]);
    // Cloud Run starts new instances; the workflow's retry or the tick resumes the step.
    await restartKilled();
    const live = await stack.waitFor(id, (r) => r.weights.canary === 40 && r.intent === null, 60_000);
    expect([splitNow(s.http), splitNow(s.grpc)]).toEqual([
      { stable: 60, canary: 40 },
      { stable: 60, canary: 40 },
    ]);
    expect(live.status.phase).toBe('Progressing');
    const done = await stack.waitForTerminal(id);
    expect(done.status.phase).toBe('Succeeded');
    expect([splitNow(s.http), splitNow(s.grpc)]).toEqual([ALL_CANARY, ALL_CANARY]);
    // Each route took each split once, in order, with one PATCH each (the crash's refused PATCH
    // stopped before the counting hook: it never reached the route).
    expect(writes.splits(s.http.route)).toEqual([
      ALL_STABLE,
      { stable: 90, canary: 10 },
      { stable: 60, canary: 40 },
      ALL_CANARY,
    ]);
    expect(writes.splits(s.grpc.route)).toEqual(writes.splits(s.http.route));
    expect(writes.patches(s.http.route)).toBe(3);
    expect(writes.patches(s.grpc.route)).toBe(3);
    const history = await stack.store.history(id);
    expect(history.filter((h) => h.event === 'rollout.weights_live').map((h) => h.to.weights.canary)).toEqual(
      [10, 40],
    );
    writes.stop();
  });

  it('recovers when the drivers die while the second route’s PATCH of a step is under way: found applied, not written again', async () => {
    const s = sides('rel-landed');
    const id = 'release-landed';
    const routes = stack.cloud.networkServices.store;
    loadBoth(s);
    // The drivers die as the GRPCRoute's 40% PATCH arrives; the PATCH is served, and its
    // operation (1.5 s) completes with nobody watching.
    let crashed = false;
    const unhookCrash = routes.beforeRequest('patch', async (resource) => {
      if (crashed || resource !== s.grpc.route) return;
      if ((await stack.store.get(id))?.intent?.weights.canary !== 40) return;
      crashed = true;
      routes.setOperationDelay(1500);
      killed.push('advanceRollout', 'advanceDue');
      for (const name of killed) stack.controller.functions.get(name)?.kill();
    });
    const writes = followWrites(routes, [s.http, s.grpc]);
    await stack.controller.publish(
      TOPICS.requests,
      releaseRequest(s, {
        rolloutId: id,
        steps: [
          { weight: 10, hold: '0s' },
          { weight: 40, hold: '1m' },
        ],
      }),
    );
    await stack.waitFor(id, (r) => crashed || isTerminal(r.status.phase), 90_000).finally(unhookCrash);
    expect(crashed, 'the drivers were killed during the GRPCRoute’s write of the 40% step').toBe(true);
    routes.setOperationDelay(200);
    await until(
      () => splitNow(s.grpc)?.canary === 40,
      () => `the GRPCRoute's PATCH never landed: ${JSON.stringify(splitNow(s.grpc))}`,
    );
    expect((await stack.store.get(id))?.intent).toMatchObject({ weights: { canary: 40 }, done: [0] });
    await restartKilled();
    const live = await stack.waitFor(id, (r) => r.weights.canary === 40 && r.intent === null, 60_000);
    expect(live.status.phase).toBe('Progressing');
    expect([splitNow(s.http), splitNow(s.grpc)]).toEqual([
      { stable: 60, canary: 40 },
      { stable: 60, canary: 40 },
    ]);
    const done = await stack.waitForTerminal(id);
    expect(done.status.phase).toBe('Succeeded');
    expect([splitNow(s.http), splitNow(s.grpc)]).toEqual([ALL_CANARY, ALL_CANARY]);
    // The landed PATCH was found applied and confirmed: each route took each split once, one PATCH each.
    const expected = [ALL_STABLE, { stable: 90, canary: 10 }, { stable: 60, canary: 40 }, ALL_CANARY];
    expectWrittenOnce(writes, s, expected, 3);
    const history = await stack.store.history(id);
    expect(history.filter((h) => h.event === 'rollout.weights_live').map((h) => h.to.weights.canary)).toEqual(
      [10, 40],
    );
    expect(history.filter((h) => h.reason.includes('again'))).toEqual([]);
    writes.stop();
  });

  it('pauses the whole release when a person edits one of its routes during a hold, keeping the edit', async () => {
    const s = sides('rel-edit');
    const id = 'release-edit';
    const routes = stack.cloud.networkServices.store;
    loadBoth(s);
    await stack.controller.publish(
      TOPICS.requests,
      releaseRequest(s, { rolloutId: id, steps: [{ weight: 20, hold: '2m' }] }),
    );
    await stack.waitFor(id, (r) => r.weights.canary === 20 && r.intent === null);
    const edited = routes.editByHand(s.grpc.route, (route) => {
      const rule = (route.rules ?? []).find((r) => (r.action?.destinations ?? []).length > 1);
      if (rule?.action) {
        rule.action.destinations = [
          { serviceName: s.grpc.stable, weight: 65 },
          { serviceName: s.grpc.canary, weight: 35 },
        ];
      }
      return route;
    });
    // Found when the release next reads the GRPCRoute (at the latest, before writing the promotion).
    const paused = await stack.waitFor(id, (r) => r.status.phase === 'Paused', 90_000);
    expect(paused.status).toMatchObject({ phase: 'Paused', reason: { kind: 'drift' } });
    const detail =
      paused.status.phase === 'Paused' && paused.status.reason.kind === 'drift'
        ? paused.status.reason.detail
        : '';
    expect(detail).toMatch(/stable 65% \/ canary 35%/);
    const entry = (await stack.store.history(id)).at(-1);
    expect(entry?.event).toBe('rollout.paused');
    expect(entry?.reason).toContain(`route ${s.grpc.route} was edited outside the controller`);
    expect(entry?.reason).toContain('paused without overwriting it');
    // Found before any route of the next change was written (the split check or the promotion's
    // read of the later routes): the HTTPRoute still shows the step's split.
    expect(splitNow(s.http)).toEqual({ stable: 80, canary: 20 });
    expect(entry?.reason).not.toContain('already shows');
    // Twice more the paused release is looked at (it waits for a person); neither route is written.
    const looks = () =>
      stack.logs.filter(
        (l) =>
          l.fields['rolloutId'] === id && l.fields['phase'] === 'Paused' && l.message.startsWith('no change'),
      ).length;
    const seen = looks();
    const patches = routes.requestCount('patch');
    const httpRoute = routeOf(s.http);
    await until(
      () => looks() >= seen + 2,
      () => 'the paused release was never looked at again',
    );
    expect(routes.requestCount('patch')).toBe(patches);
    expect(routeOf(s.grpc)).toEqual(edited);
    expect(routeOf(s.http)).toEqual(httpRoute);
    expect((await stack.store.get(id))?.status.phase).toBe('Paused');
    await stack.controller.publish(TOPICS.control, {
      rolloutId: id,
      command: 'abort',
      actor: 'e2e',
      reason: 'clean up',
    });
    const aborted = await stack.waitForTerminal(id, 60_000);
    expect(aborted.status.phase).toBe('Aborted');
    expect([splitNow(s.http), splitNow(s.grpc)]).toEqual([ALL_STABLE, ALL_STABLE]);
  });
});

describe('a release naming a route it may not move', () => {
  async function expectRejected(body: RolloutRequestInput, code: string, message: RegExp, field?: string) {
    const s = sides('rel-reject');
    const routes = stack.cloud.networkServices.store;
    const before = [routeOf(s.http), routeOf(s.grpc), routes.route(OUTSIDE)];
    const patches = routes.requestCount('patch');
    const messageId = await stack.controller.publish(TOPICS.requests, body);
    const rejected = () =>
      stack.logs.find((l) => l.fields['messageId'] === messageId && l.fields['code'] === code);
    await expect.poll(rejected, { timeout: 20_000 }).toBeDefined();
    expect(rejected()?.message).toMatch(message);
    if (field !== undefined) expect(rejected()?.fields).toMatchObject({ problems: [{ field }] });
    expect(await stack.store.get(body.rolloutId ?? '')).toBeNull();
    expect([routeOf(s.http), routeOf(s.grpc), routes.route(OUTSIDE)]).toEqual(before);
    expect(routes.requestCount('patch')).toBe(patches);
  }

  const OUTSIDE = `projects/${PROJECT}/locations/global/httpRoutes/not-ours`;

  it('rejects a target outside the allowlist, touching nothing', async () => {
    const s = sides('rel-reject');
    stack.cloud.networkServices.store.seed({
      ...structuredClone(stack.route(s.http.app)),
      name: OUTSIDE,
      hostnames: ['not-ours.internal'],
    });
    await expectRejected(
      {
        ...releaseRequest(s, { rolloutId: 'release-outside' }),
        targets: [{ route: s.http.route }, { route: OUTSIDE }],
      },
      'ROUTE_NOT_ALLOWED',
      new RegExp(`targets\\[1\\]\\.route: HTTPRoute ${OUTSIDE} is not managed by this controller`),
    );
  });

  it('rejects a target of an unknown route kind, touching nothing', async () => {
    const s = sides('rel-reject');
    await expectRejected(
      {
        ...releaseRequest(s, { rolloutId: 'release-unknown-kind' }),
        targets: [{ route: s.http.route }, { route: `projects/${PROJECT}/locations/global/fooRoutes/x` }],
      },
      'INVALID_REQUEST',
      /rollout request rejected/,
      'targets[1].route',
    );
  });
});
