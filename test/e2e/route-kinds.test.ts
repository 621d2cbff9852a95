/**
 * Every Service Routing kind the controller moves, end to end through Pub/Sub, the functions, the
 * Network Services stand-in and the local mesh: a TCPRoute and a TLSRoute rollout each promote
 * (the split measured per connection through the mesh's TCP and TLS listeners at each step) and
 * roll back a canary that resets connections (judged on the mesh's connection metric through a
 * `filter` source); an HTTPRoute and a GRPCRoute attached to a Gateway rather than a Mesh promote
 * and roll back like mesh routes, with only their rules' destinations changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RolloutRequestInput } from '../../functions/core/request.ts';
import { TOPICS } from '../../functions/manifest.ts';
import { type DemoApp, demoRoute, STATIC_SERVICE } from '../../local/demo-apps.ts';
import { startLoad } from '../../local/mesh/load.ts';
import type { GrpcRoute, HttpRoute } from '../../local/network-services/route-feed.ts';
import { allRoutes, grpcSide, type ProtocolSide, streamSide } from '../support/protocol-sides.ts';
import { binomialCheck, splitOf, until, withoutDestinationsOf } from '../support/release.ts';
import { type Stack, startStack, withoutDestinations } from '../support/stack.ts';

const PROJECT = 'e2e-route-kinds';
const APPS = ['edge', 'portal', 'ledger', 'vault', 'ledger-b', 'vault-b'];
let stack: Stack;
const stops: (() => Promise<void>)[] = [];

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

/** A one-route request judged on the side's own `filter` metric sources. */
function streamRequest(
  side: ProtocolSide,
  rolloutId: string,
  steps: RolloutRequestInput['steps'],
): RolloutRequestInput {
  return {
    rolloutId,
    route: side.route,
    stable: side.stable,
    canary: side.canary,
    steps,
    analysis: { minRequests: 10, metrics: side.metrics },
  };
}

async function expectShare(side: ProtocolSide, canaryPercent: number, label: string, n = 300): Promise<void> {
  const counts = await side.measure(n);
  expect(counts.other, `${label}: every connection answered by stable or canary`).toBe(0);
  const check = binomialCheck(counts.canary, counts.stable + counts.canary, canaryPercent / 100);
  expect(check, `${label}: canary ${counts.canary}/${n} against ${canaryPercent}%`).toMatchObject({
    ok: true,
  });
}

async function propagated(label: string): Promise<void> {
  await until(
    () => stack.cloud.mesh.propagated() && (stack.cloud.protocols?.propagated() ?? false),
    () => `mesh clients never all took ${label}`,
  );
}

describe.each([
  // The canary resets half its connections (TLS: before the handshake, as a crashing backend would).
  {
    kind: 'tcp',
    name: 'TCPRoute',
    app: 'ledger',
    other: 'ledger-b',
    breakCanary: async (side: ProtocolSide) => side.setCanaryErrors(0.5),
  },
  {
    kind: 'tls',
    name: 'TLSRoute',
    app: 'vault',
    other: 'vault-b',
    breakCanary: async (side: ProtocolSide) => side.setCanaryErrors(0.5),
  },
] as const)('a $name rollout', ({ kind, name, app: appName, other, breakCanary }) => {
  it(`promotes step by step, the split per connection following the steps, nothing but the destinations changed`, async () => {
    const side = streamSide(stack, stack.app(appName), kind, stops);
    const id = `${kind}-promote`;
    const routes = stack.cloud.networkServices.store;
    const before = routes.route(side.route);
    side.load(40);
    await propagated(`the seeded ${name}`);
    await expectShare(side, 0, `${name} before the rollout`);
    const steps = [30, 70];
    await stack.controller.publish(
      TOPICS.requests,
      streamRequest(
        side,
        id,
        steps.map((weight) => ({ weight, hold: '2m' })),
      ),
    );
    for (const weight of steps) {
      await stack.waitFor(id, (r) => r.weights.canary === weight && r.intent === null);
      await propagated(`the ${weight}% step`);
      await expectShare(side, weight, `${name} at ${weight}%`);
      expect((await stack.store.get(id))?.weights.canary, `still at ${weight}% after measuring`).toBe(weight);
    }
    const done = await stack.waitForTerminal(id);
    expect(done.status.phase).toBe('Succeeded');
    await propagated('the promotion');
    await expectShare(side, 100, `${name} after promotion`);
    const after = routes.route(side.route);
    expect(after?.rules?.[0]?.action?.destinations).toEqual([{ serviceName: side.canary }]);
    expect(withoutDestinations(after ?? {}, 0)).toEqual(withoutDestinations(before ?? {}, 0));
    const verdicts = (await stack.store.history(id)).filter((h) => h.verdict?.verdict === 'pass');
    expect(verdicts.length).toBeGreaterThanOrEqual(steps.length);
  });

  it(`rolls back a canary whose connections fail, judged on the mesh's connection metric`, async () => {
    const side = streamSide(stack, stack.app(other), kind, stops);
    const id = `${kind}-rollback`;
    const routes = stack.cloud.networkServices.store;
    const before = routes.route(side.route);
    side.load(40);
    await stack.controller.publish(TOPICS.requests, streamRequest(side, id, [{ weight: 40, hold: '10m' }]));
    await stack.waitFor(id, (r) => r.weights.canary === 40 && r.intent === null);
    await breakCanary(side);
    const done = await stack.waitForTerminal(id, 90_000);
    expect(done.status).toMatchObject({ phase: 'RolledBack', cause: { kind: 'verdict' } });
    const after = routes.route(side.route);
    expect(splitOf(after ?? {}, side.stable, side.canary)).toEqual({ stable: 100, canary: 0 });
    expect(withoutDestinations(after ?? {}, 0)).toEqual(withoutDestinations(before ?? {}, 0));
    await propagated('the rollback');
    await expectShare(side, 0, `${name} after rollback`);
  });
});

/** The app's demo route, attached to an ingress Gateway instead of the demo mesh. */
function gatewayRoute(app: DemoApp): HttpRoute {
  const route = demoRoute(app, `projects/${PROJECT}/locations/global/backendServices/${STATIC_SERVICE}`);
  delete route.meshes;
  return { ...route, gateways: [`projects/${PROJECT}/locations/us-central1/gateways/ingress`] };
}

/** Share of `n` requests through the mesh that the canary answered, as the load generator counts them. */
async function measuredCanaryShare(app: DemoApp, n = 400): Promise<{ canary: number; n: number }> {
  const stats = await startLoad({
    url: stack.cloud.mesh.url,
    host: app.hostname,
    maxRequests: n,
    concurrency: 8,
  }).done;
  const canary = stats.byBackend[app.canaryService]?.total ?? 0;
  const stable = stats.byBackend[app.stableService]?.total ?? 0;
  return { canary, n: canary + stable };
}

describe('an HTTPRoute attached to a Gateway', () => {
  it('promotes step by step, its measured split following the steps, nothing but the destinations changed', async () => {
    const app = stack.app('edge');
    stack.cloud.networkServices.store.seed(gatewayRoute(app));
    const before = stack.route(app);
    stack.load(app);
    await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, {
        rolloutId: 'gateway-promote',
        steps: [
          { weight: 25, hold: '3m' },
          { weight: 60, hold: '3m' },
        ],
      }),
    );
    for (const weight of [25, 60]) {
      await stack.waitFor('gateway-promote', (r) => r.weights.canary === weight && r.intent === null);
      await until(
        () => stack.cloud.mesh.propagated(),
        () => 'mesh clients never all took the step',
      );
      const measured = await measuredCanaryShare(app);
      const check = binomialCheck(measured.canary, measured.n, weight / 100);
      expect(check, `step ${weight}%`).toMatchObject({ ok: true });
      // Measured while the step was still the one live.
      expect((await stack.store.get('gateway-promote'))?.weights.canary).toBe(weight);
    }
    const done = await stack.waitForTerminal('gateway-promote');
    expect(done.status.phase).toBe('Succeeded');
    const after = stack.route(app);
    expect(after.gateways).toEqual(before.gateways);
    expect(after.meshes).toBeUndefined();
    expect(after.rules?.[1]?.action?.destinations).toEqual([{ serviceName: app.canary }]);
    expect(withoutDestinations(after, 1)).toEqual(withoutDestinations(before, 1));
    await until(
      () => stack.cloud.mesh.propagated(),
      () => 'mesh clients never all took the promotion',
    );
    const final = await measuredCanaryShare(app);
    expect(final.canary).toBe(final.n);
  });

  it('rolls a failing canary back, the Gateway route sending the canary nothing', async () => {
    const app = stack.app('portal');
    stack.cloud.networkServices.store.seed(gatewayRoute(app));
    const before = stack.route(app);
    stack.load(app);
    stack.cloud.backends.get(app.canaryService)?.setBehaviour({ errorRatio: 0.5 });
    await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, { rolloutId: 'gateway-rollback', steps: [{ weight: 30, hold: '10m' }] }),
    );
    const done = await stack.waitForTerminal('gateway-rollback');
    stack.cloud.backends.get(app.canaryService)?.setBehaviour({ errorRatio: 0 });
    expect(done.status.phase).toBe('RolledBack');
    expect(done.weights).toEqual({ stable: 100, canary: 0 });
    const after = stack.route(app);
    expect(splitOf(after, app.stable, app.canary)).toEqual({ stable: 100, canary: 0 });
    expect(withoutDestinations(after, 1)).toEqual(withoutDestinations(before, 1));
    await until(
      () => stack.cloud.mesh.propagated(),
      () => 'mesh clients never all took the rollback',
    );
    const measured = await measuredCanaryShare(app);
    expect(measured.n).toBeGreaterThan(0);
    expect(measured.canary).toBe(0);
  });
});

describe('a GRPCRoute attached to a Gateway', () => {
  /** The app's GRPCRoute, re-seeded attached to the ingress Gateway instead of the demo mesh. */
  function onGateway(side: ProtocolSide): GrpcRoute {
    const routes = stack.cloud.networkServices.store;
    const { meshes: _meshes, ...route } = structuredClone(routes.route(side.route) ?? {}) as GrpcRoute;
    return routes.seed({
      ...route,
      gateways: [`projects/${PROJECT}/locations/us-central1/gateways/ingress`],
    });
  }

  it('promotes step by step and rolls a failing canary back, like a mesh route', async () => {
    const promoted = grpcSide(stack, stack.app('edge'), stops);
    const failing = grpcSide(stack, stack.app('portal'), stops);
    const before = [onGateway(promoted), onGateway(failing)];
    promoted.load(40);
    failing.load(40);
    await stack.controller.publish(
      TOPICS.requests,
      streamRequest(promoted, 'grpc-gateway-promote', [{ weight: 40, hold: '2m' }]),
    );
    await stack.waitFor('grpc-gateway-promote', (r) => r.weights.canary === 40 && r.intent === null);
    await propagated('the 40% step');
    await expectShare(promoted, 40, 'gRPC on a Gateway at 40%');
    expect((await stack.store.get('grpc-gateway-promote'))?.weights.canary).toBe(40);
    expect((await stack.waitForTerminal('grpc-gateway-promote')).status.phase).toBe('Succeeded');

    await stack.controller.publish(
      TOPICS.requests,
      streamRequest(failing, 'grpc-gateway-rollback', [{ weight: 30, hold: '10m' }]),
    );
    await stack.waitFor('grpc-gateway-rollback', (r) => r.weights.canary === 30 && r.intent === null);
    failing.setCanaryErrors(0.5);
    const done = await stack.waitForTerminal('grpc-gateway-rollback', 90_000);
    failing.setCanaryErrors(0);
    expect(done.status).toMatchObject({ phase: 'RolledBack', cause: { kind: 'verdict' } });

    const routes = stack.cloud.networkServices.store;
    const after = [routes.route(promoted.route), routes.route(failing.route)];
    expect(splitOf(after[0] ?? {}, promoted.stable, promoted.canary)).toEqual({ stable: 0, canary: 100 });
    expect(splitOf(after[1] ?? {}, failing.stable, failing.canary)).toEqual({ stable: 100, canary: 0 });
    after.forEach((route, i) => {
      expect(route?.gateways).toEqual(before[i]?.gateways);
      expect(route?.meshes).toBeUndefined();
      expect(withoutDestinationsOf(route, 0)).toEqual(withoutDestinationsOf(before[i] ?? null, 0));
    });
    await propagated('the promotion and the rollback');
    await expectShare(promoted, 100, 'gRPC on a Gateway after promotion');
    await expectShare(failing, 0, 'gRPC on a Gateway after rollback');
  });
});
