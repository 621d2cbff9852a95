/**
 * The local Network Services API's grpcRoutes, tcpRoutes and tlsRoutes, driven through the
 * googleapis client: create/get/list/patch through operations like httpRoutes, and each kind's
 * validation (400 INVALID_ARGUMENT naming the field). Google documents the constraints (field
 * behaviours, "if one destination has a weight all must", TcpRoute "only one of destinations or
 * originalDestination", TlsRoute "at least one of sni_host and alpn") but not its messages: the
 * JSON-parser messages follow the real API's format; the "Invalid <Kind>: …" wording is ours
 * (not verified), so these tests pin the status, code and the field named.
 */
import { networkservices, type networkservices_v1 } from 'googleapis/build/src/apis/networkservices/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GrpcRoute, TcpRoute, TlsRoute } from '../../local/network-services/route-feed.ts';
import {
  type NetworkServicesServer,
  startNetworkServicesServer,
} from '../../local/network-services/server.ts';

const PARENT = 'projects/demo/locations/global';
const STABLE = `${PARENT}/backendServices/stable`;
const CANARY = `${PARENT}/backendServices/canary`;
const MESH = `${PARENT}/meshes/main`;
const GATEWAY = `${PARENT}/gateways/ingress`;

let server: NetworkServicesServer;
let locations: networkservices_v1.Resource$Projects$Locations;
let sequence = 0;

function nextId(): string {
  sequence += 1;
  return `route-${sequence}`;
}

const split = (weights: readonly (number | undefined)[]) =>
  weights.map((weight, i) => ({
    serviceName: [STABLE, CANARY][i] ?? STABLE,
    ...(weight === undefined ? {} : { weight }),
  }));

function grpc(weights: readonly (number | undefined)[] = [90, 10]): GrpcRoute {
  return {
    hostnames: ['pay.internal'],
    meshes: [MESH],
    rules: [
      {
        matches: [
          {
            method: { grpcService: 'pay.v1.Payments', grpcMethod: 'Charge' },
            headers: [{ key: 'x-env', value: 'prod' }],
          },
        ],
        action: { destinations: split(weights) },
      },
    ],
  };
}

function tcp(weights: readonly (number | undefined)[] = [90, 10]): TcpRoute {
  return {
    meshes: [MESH],
    rules: [{ matches: [{ address: '10.0.0.0/8', port: '5432' }], action: { destinations: split(weights) } }],
  };
}

function tls(weights: readonly (number | undefined)[] = [90, 10]): TlsRoute {
  return {
    gateways: [GATEWAY],
    rules: [{ matches: [{ sniHost: ['pay.example.com'] }], action: { destinations: split(weights) } }],
  };
}

async function apiError(call: Promise<unknown>): Promise<{ status: number; error: Record<string, unknown> }> {
  const failure = await call.then(
    () => null,
    (e: unknown) => e as { status?: number; response?: { data?: { error?: Record<string, unknown> } } },
  );
  if (failure === null) throw new Error('expected the call to fail');
  return { status: failure.status ?? 0, error: failure.response?.data?.error ?? {} };
}

type Kind = 'grpcRoutes' | 'tcpRoutes' | 'tlsRoutes';

/** Creates a route of the kind through the client (the id parameter is the kind's). */
function create(kind: Kind, id: string, route: object) {
  switch (kind) {
    case 'grpcRoutes':
      return locations.grpcRoutes.create({ parent: PARENT, grpcRouteId: id, requestBody: route });
    case 'tcpRoutes':
      return locations.tcpRoutes.create({ parent: PARENT, tcpRouteId: id, requestBody: route });
    case 'tlsRoutes':
      return locations.tlsRoutes.create({ parent: PARENT, tlsRouteId: id, requestBody: route });
  }
}

/** PATCH with updateMask=rules through the kind's collection of the client. */
function patchRules(kind: Kind, name: string, rules: readonly object[]) {
  const request = { name, updateMask: 'rules', requestBody: { rules: [...rules] } };
  switch (kind) {
    case 'grpcRoutes':
      return locations.grpcRoutes.patch(request);
    case 'tcpRoutes':
      return locations.tcpRoutes.patch(request);
    case 'tlsRoutes':
      return locations.tlsRoutes.patch(request);
  }
}

beforeAll(async () => {
  server = await startNetworkServicesServer();
  locations = networkservices({ version: 'v1', rootUrl: server.url }).projects.locations;
});
afterAll(() => server.close());

describe.each([
  ['grpcRoutes', grpc(), 'GrpcRoute'],
  ['tcpRoutes', tcp(), 'TcpRoute'],
  ['tlsRoutes', tls(), 'TlsRoute'],
] as const)('%s', (kind, route, type) => {
  it('creates through an operation whose response has the kind’s @type, then gets and lists it under its own key', async () => {
    const id = nextId();
    const { data: operation } = await create(kind, id, route);
    expect(operation.done).toBe(true);
    expect(operation.metadata?.['target']).toBe(`${PARENT}/${kind}/${id}`);
    expect(operation.response?.['@type']).toBe(`type.googleapis.com/google.cloud.networkservices.v1.${type}`);
    const name = `${PARENT}/${kind}/${id}`;
    expect(server.store.route(name)).toMatchObject({ ...route, name });
    const { data: list } = await locations[kind].list({ parent: PARENT });
    expect(Object.keys(list)).toEqual([kind]);
    expect(JSON.stringify(list)).toContain(name);
    // The route is in the feed of its kind only.
    const feed = {
      grpcRoutes: server.store.grpcRoutes(),
      tcpRoutes: server.store.tcpRoutes(),
      tlsRoutes: server.store.tlsRoutes(),
    };
    for (const [collection, routes] of Object.entries(feed)) {
      expect(routes.some((r) => r.name === name)).toBe(collection === kind);
    }
    expect(server.store.routes().some((r) => r.name === name)).toBe(false);
  });

  it('patches only the rules with updateMask=rules, through an operation, keeping the rest', async () => {
    const id = nextId();
    await create(kind, id, { ...route, labels: { team: 'pay' }, description: 'kept' });
    const name = `${PARENT}/${kind}/${id}`;
    const before = server.store.route(name);
    server.store.setOperationDelay(60_000);
    const rules = structuredClone(route.rules ?? []);
    const action = rules[0]?.action;
    if (action) action.destinations = split([50, 50]);
    const { data: operation } = await patchRules(kind, name, rules);
    expect(operation.done).toBe(false);
    expect(server.store.route(name)).toEqual(before);
    server.store.setOperationDelay(0);
    server.store.completePendingOperations();
    const { data: done } = await locations.operations.get({ name: operation.name ?? '' });
    expect(done.done).toBe(true);
    const after = server.store.route(name);
    expect(after?.rules).toEqual(rules);
    expect({ ...after, rules: null, updateTime: null }).toEqual({ ...before, rules: null, updateTime: null });
  });

  it('answers 404 for a route of the kind that does not exist, naming it', async () => {
    const missing = await apiError(locations[kind].get({ name: `${PARENT}/${kind}/nope` }));
    expect(missing.status).toBe(404);
    expect(missing.error['message']).toContain(`${PARENT}/${kind}/nope`);
  });

  it('rejects a malformed id with the kind’s id parameter named', async () => {
    const rejected = await apiError(create(kind, 'Bad_Id', route));
    expect(rejected.status).toBe(400);
    expect(rejected.error['message']).toContain(`Invalid ${kind.slice(0, -1)}Id 'Bad_Id'`);
  });

  it('accepts a Gateway attachment as well as a Mesh one, and rejects malformed references', async () => {
    const { meshes: _m, gateways: _g, ...bare } = route;
    await create(kind, nextId(), { ...bare, gateways: [GATEWAY] });
    await create(kind, nextId(), { ...bare, meshes: [MESH] });
    const badMesh = await apiError(create(kind, nextId(), { ...bare, meshes: ['main'] }));
    expect(badMesh.status).toBe(400);
    expect(badMesh.error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
    expect(badMesh.error['message']).toBe(
      `Invalid ${type}: meshes[0] 'main' is not a valid reference; use projects/P/locations/L/meshes/M.`,
    );
    const badGateway = await apiError(
      create(kind, nextId(), { ...bare, gateways: [`${PARENT}/meshes/main`] }),
    );
    expect(badGateway.error['message']).toContain(`Invalid ${type}: gateways[0]`);
  });

  it('validates weights as for every kind: all or none, never negative', async () => {
    const some = await apiError(
      create(kind, nextId(), {
        ...route,
        rules: [{ ...route.rules?.[0], action: { destinations: split([90, undefined]) } }],
      }),
    );
    expect(some.status).toBe(400);
    expect(some.error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
    expect(some.error['message']).toBe(
      `Invalid ${type}: rules[0].action.destinations: if a weight is specified for one destination it must be specified (and non-zero) for all of them; destinations [1] have none.`,
    );
    const negative = await apiError(
      create(kind, nextId(), {
        ...route,
        rules: [{ ...route.rules?.[0], action: { destinations: split([-1, 5]) } }],
      }),
    );
    expect(negative.error['message']).toContain('rules[0].action.destinations[0].weight is -1');
  });

  it('requires rules, an action, and destinations in it', async () => {
    const { rules: _rules, ...noRules } = route;
    const missing = await apiError(create(kind, nextId(), noRules));
    expect(missing.error['message']).toBe(
      `Invalid ${type}: rules is required and must contain at least one rule.`,
    );
    const noAction = await apiError(
      create(kind, nextId(), { ...route, rules: [{ matches: route.rules?.[0]?.matches }] }),
    );
    expect(noAction.error['message']).toBe(`Invalid ${type}: rules[0].action is required.`);
    const noDestinations = await apiError(
      create(kind, nextId(), {
        ...route,
        rules: [{ matches: route.rules?.[0]?.matches, action: { destinations: [] } }],
      }),
    );
    expect(noDestinations.status).toBe(400);
    expect(noDestinations.error['message']).toBe(
      `Invalid ${type}: rules[0].action.destinations: at least one destination is required.`,
    );
  });
});

/** Creates `route` as a new route of `kind` and returns the API's error. */
async function rejected(kind: Kind, route: object) {
  const error = await apiError(create(kind, nextId(), route));
  expect(error.status).toBe(400);
  expect(error.error['status']).toBe('INVALID_ARGUMENT');
  return String(error.error['message']);
}

describe('grpcRoutes validation', () => {
  const withMatch = (match: object): GrpcRoute => ({
    ...grpc(),
    rules: [{ matches: [match], action: { destinations: split([1, 1]) } }],
  });

  it('requires hostnames', async () => {
    const { hostnames: _h, ...rest } = grpc();
    expect(await rejected('grpcRoutes', rest)).toBe(
      'Invalid GrpcRoute: hostnames is required and must contain at least one hostname.',
    );
  });

  it('checks method matches: service and method required, the type an enum, caseSensitive not with a regular expression', async () => {
    expect(await rejected('grpcRoutes', withMatch({ method: { grpcService: 'pay.v1.Payments' } }))).toBe(
      'Invalid GrpcRoute: rules[0].matches[0].method.grpcMethod is required.',
    );
    expect(
      await rejected(
        'grpcRoutes',
        withMatch({ method: { grpcService: 'a', grpcMethod: 'b', type: 'PREFIX' } }),
      ),
    ).toBe(`Invalid value at 'grpc_route.rules[0].matches[0].method.type' (TYPE_ENUM), "PREFIX"`);
    expect(
      await rejected(
        'grpcRoutes',
        withMatch({
          method: { grpcService: 'a', grpcMethod: '.*', type: 'REGULAR_EXPRESSION', caseSensitive: true },
        }),
      ),
    ).toBe(
      'Invalid GrpcRoute: rules[0].matches[0].method.caseSensitive must not be used with a type of REGULAR_EXPRESSION.',
    );
  });

  it('checks header matches: key and value required', async () => {
    expect(await rejected('grpcRoutes', withMatch({ headers: [{ key: 'x-env' }] }))).toBe(
      'Invalid GrpcRoute: rules[0].matches[0].headers[0].value is required.',
    );
  });

  it('rejects HTTP fields in a gRPC route, naming where, as the JSON parser does', async () => {
    expect(await rejected('grpcRoutes', withMatch({ prefixMatch: '/' }))).toBe(
      `Invalid JSON payload received. Unknown name "prefixMatch" at 'grpc_route.rules[0].matches[0]': Cannot find field.`,
    );
  });

  it('accepts a Service Directory service as a destination', async () => {
    const directory = `${PARENT}/namespaces/pay/services/payments`;
    const { data } = await create('grpcRoutes', nextId(), {
      ...grpc(),
      rules: [{ action: { destinations: [{ serviceName: directory }] } }],
    });
    expect(data.done).toBe(true);
    expect(data.error).toBeUndefined();
  });
});

describe('tcpRoutes validation', () => {
  const withRule = (rule: object): TcpRoute => ({ meshes: [MESH], rules: [rule] });

  it('has no hostnames and no hostnames update mask', async () => {
    expect(await rejected('tcpRoutes', { ...tcp(), hostnames: ['x.internal'] })).toBe(
      `Invalid JSON payload received. Unknown name "hostnames" at 'tcp_route': Cannot find field.`,
    );
    const id = nextId();
    await create('tcpRoutes', id, tcp());
    const masked = await apiError(
      locations.tcpRoutes.patch({
        name: `${PARENT}/tcpRoutes/${id}`,
        updateMask: 'hostnames',
        requestBody: {},
      }),
    );
    expect(masked.error['message']).toContain(
      "Invalid update mask path 'hostnames': a TcpRoute update mask may contain only",
    );
  });

  it('takes either destinations or originalDestination, not both and not neither', async () => {
    const { data } = await create('tcpRoutes', nextId(), withRule({ action: { originalDestination: true } }));
    expect(data.error).toBeUndefined();
    expect(
      await rejected(
        'tcpRoutes',
        withRule({ action: { originalDestination: true, destinations: split([1, 1]) } }),
      ),
    ).toBe('Invalid TcpRoute: rules[0].action: only one of destinations or originalDestination can be set.');
    expect(await rejected('tcpRoutes', withRule({ action: { originalDestination: false } }))).toBe(
      'Invalid TcpRoute: rules[0].action.destinations: at least one destination is required.',
    );
  });

  it('requires an IPv4 address (or CIDR range) and a port in every match', async () => {
    const action = { destinations: split([1, 1]) };
    expect(await rejected('tcpRoutes', withRule({ matches: [{ port: '80' }], action }))).toBe(
      'Invalid TcpRoute: rules[0].matches[0].address is required.',
    );
    expect(
      await rejected('tcpRoutes', withRule({ matches: [{ address: '10.0.0.0/33', port: '80' }], action })),
    ).toContain("rules[0].matches[0].address '10.0.0.0/33' must be an IPv4 address or CIDR range");
    expect(await rejected('tcpRoutes', withRule({ matches: [{ address: '10.0.0.1' }], action }))).toBe(
      'Invalid TcpRoute: rules[0].matches[0].port is required.',
    );
  });
});

describe('tlsRoutes validation', () => {
  const withMatches = (matches: object[] | undefined): TlsRoute => ({
    gateways: [GATEWAY],
    rules: [{ ...(matches === undefined ? {} : { matches }), action: { destinations: split([1, 1]) } }],
  });

  it('requires matches, each with an SNI host or an ALPN', async () => {
    expect(await rejected('tlsRoutes', withMatches(undefined))).toBe(
      'Invalid TlsRoute: rules[0].matches is required and must contain at least one match.',
    );
    expect(await rejected('tlsRoutes', withMatches([{ sniHost: [] }]))).toBe(
      'Invalid TlsRoute: rules[0].matches[0]: at least one of sniHost and alpn is required.',
    );
    const { data } = await create('tlsRoutes', nextId(), withMatches([{ alpn: ['h2'] }]));
    expect(data.error).toBeUndefined();
  });

  it('rejects partial wildcards and more than 5 ALPNs', async () => {
    expect(await rejected('tlsRoutes', withMatches([{ sniHost: ['*w.example.com'] }]))).toContain(
      "rules[0].matches[0].sniHost[0] '*w.example.com' is not a host name or a wildcard",
    );
    const alpn = ['h2', 'http/1.1', 'a', 'b', 'c', 'd'];
    expect(await rejected('tlsRoutes', withMatches([{ alpn }]))).toBe(
      'Invalid TlsRoute: at most 5 alpn values can be set across all matches; found 6.',
    );
  });

  it('accepts targetProxies and rejects HTTP-only action fields', async () => {
    const { data } = await create('tlsRoutes', nextId(), {
      ...tls(),
      targetProxies: [`${PARENT}/targetTcpProxies/p`],
    });
    expect(data.error).toBeUndefined();
    expect(
      await rejected('tlsRoutes', {
        ...tls(),
        rules: [
          {
            matches: [{ sniHost: ['a.example.com'] }],
            action: { destinations: split([1, 1]), timeout: '5s' },
          },
        ],
      }),
    ).toBe(
      `Invalid JSON payload received. Unknown name "timeout" at 'tls_route.rules[0].action': Cannot find field.`,
    );
  });
});

describe('seeding and hand edits', () => {
  it('seed and editByHand accept every kind and validate it as its kind', () => {
    const name = `${PARENT}/tcpRoutes/seeded`;
    server.store.seed({ ...tcp(), name });
    const edited = server.store.editByHand<TcpRoute>(name, (r) => {
      r.description = 'by hand';
    });
    expect(edited.description).toBe('by hand');
    expect(() => server.store.seed({ ...tcp(), name: `${PARENT}/tlsRoutes/not-tls` })).toThrow(
      /Unknown name "address" at 'tls_route.rules\[0\].matches\[0\]'/,
    );
    expect(() => server.store.seed({ ...tcp(), name: `${PARENT}/udpRoutes/x` })).toThrow(/full route name/);
  });
});
