/**
 * The local Network Services v1 API driven through the googleapis client (as the controller
 * drives the real one): resource semantics, update masks, long-running operations, validation
 * errors in the real API's JSON shape, and the test hooks.
 */
import { networkservices, type networkservices_v1 } from 'googleapis/build/src/apis/networkservices/index.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HttpRoute } from '../../local/network-services/route-feed.ts';
import {
  type NetworkServicesServer,
  startNetworkServicesServer,
} from '../../local/network-services/server.ts';

const PARENT = 'projects/demo/locations/global';
const STABLE = `${PARENT}/backendServices/stable`;
const CANARY = `${PARENT}/backendServices/canary`;
const RFC3339_NANOS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;

let server: NetworkServicesServer;
let client: networkservices_v1.Networkservices;
let routes: networkservices_v1.Resource$Projects$Locations$Httproutes;
let operations: networkservices_v1.Resource$Projects$Locations$Operations;
let sequence = 0;

/** A fresh route id per test, so tests never see each other's routes. */
function nextId(): string {
  sequence += 1;
  return `route-${sequence}`;
}

function body(weights: readonly (number | undefined)[] = [90, 10]): HttpRoute {
  const names = [STABLE, CANARY];
  return {
    hostnames: ['shop.internal'],
    labels: { team: 'checkout' },
    rules: [
      {
        matches: [{ prefixMatch: '/' }],
        action: {
          destinations: weights.map((weight, i) => ({
            serviceName: names[i] ?? `${PARENT}/backendServices/b${i}`,
            ...(weight === undefined ? {} : { weight }),
          })),
        },
      },
    ],
  };
}

/** The API error a rejected client call carries: HTTP status and the `error` object of the body. */
async function apiError(call: Promise<unknown>): Promise<{ status: number; error: Record<string, unknown> }> {
  const failure = await call.then(
    () => null,
    (e: unknown) => e as { status?: number; response?: { data?: { error?: Record<string, unknown> } } },
  );
  if (failure === null) throw new Error('expected the call to fail');
  return { status: failure.status ?? 0, error: failure.response?.data?.error ?? {} };
}

async function create(id: string, route: HttpRoute = body()): Promise<networkservices_v1.Schema$Operation> {
  const { data } = await routes.create({ parent: PARENT, httpRouteId: id, requestBody: route });
  return data;
}

async function get(id: string): Promise<HttpRoute> {
  return (await routes.get({ name: `${PARENT}/httpRoutes/${id}` })).data;
}

beforeAll(async () => {
  server = await startNetworkServicesServer();
  client = networkservices({ version: 'v1', rootUrl: server.url });
  routes = client.projects.locations.httpRoutes;
  operations = client.projects.locations.operations;
});
afterAll(() => server.close());
beforeEach(() => {
  server.store.setOperationDelay(0);
  server.store.completePendingOperations();
});

describe('create and get', () => {
  it('creates through an operation that returns the route with its @type, name, selfLink and times', async () => {
    const id = nextId();
    const op = await create(id, { ...body(), name: 'ignored', updateTime: '2000-01-01T00:00:00Z' });
    const name = `${PARENT}/httpRoutes/${id}`;
    expect(op.name).toMatch(new RegExp(`^${PARENT}/operations/operation-`));
    expect(op.done).toBe(true);
    expect(op.metadata).toMatchObject({
      '@type': 'type.googleapis.com/google.cloud.networkservices.v1.OperationMetadata',
      target: name,
      verb: 'create',
    });
    expect(op.response).toMatchObject({
      '@type': 'type.googleapis.com/google.cloud.networkservices.v1.HttpRoute',
      name,
      hostnames: ['shop.internal'],
    });

    const route = await get(id);
    expect(route.name).toBe(name);
    expect(route.selfLink).toBe(`https://networkservices.googleapis.com/v1/${name}`);
    expect(route.createTime).toMatch(RFC3339_NANOS);
    expect(route.updateTime).toBe(route.createTime);
    expect(route.rules).toEqual(body().rules);
  });

  it('rejects a duplicate id (409 ALREADY_EXISTS) and a malformed one (400)', async () => {
    const id = nextId();
    await create(id);
    expect(await apiError(create(id))).toMatchObject({ status: 409, error: { status: 'ALREADY_EXISTS' } });
    const bad = await apiError(create('Not_An_Id'));
    expect(bad.status).toBe(400);
    expect(bad.error['message']).toContain("Invalid httpRouteId 'Not_An_Id'");
  });

  it('keeps fields as sent, except weight 0 which a read omits', async () => {
    const id = nextId();
    const route = body([0, 0]);
    const action = route.rules?.[0]?.action;
    if (action === undefined) throw new Error('fixture without action');
    action.statefulSessionAffinity = { cookieTtl: '0s' };
    action.idleTimeout = '600s';
    await create(id, route);
    const read = await get(id);
    expect(read.rules?.[0]?.action).toEqual({
      destinations: [{ serviceName: STABLE }, { serviceName: CANARY }],
      statefulSessionAffinity: { cookieTtl: '0s' },
      idleTimeout: '600s',
    });
  });

  it('answers 404 NOT_FOUND for an unknown route and an unknown operation', async () => {
    const missing = await apiError(routes.get({ name: `${PARENT}/httpRoutes/nope` }));
    expect(missing).toEqual({
      status: 404,
      error: {
        code: 404,
        message: `Resource '${PARENT}/httpRoutes/nope' was not found`,
        status: 'NOT_FOUND',
      },
    });
    expect((await apiError(operations.get({ name: `${PARENT}/operations/operation-0` }))).status).toBe(404);
    expect((await apiError(routes.delete({ name: `${PARENT}/httpRoutes/nope` }))).status).toBe(404);
    expect(
      (
        await apiError(
          routes.patch({ name: `${PARENT}/httpRoutes/nope`, updateMask: 'rules', requestBody: body() }),
        )
      ).status,
    ).toBe(404);
  });
});

describe('validation', () => {
  const cases: [string, HttpRoute, string][] = [
    ['a negative weight', body([90, -10]), 'rules[0].action.destinations[1].weight is -10'],
    ['some destinations weighted and others not', body([90, undefined]), 'destinations [1] have none'],
    [
      'a weight of 0 next to a non-zero weight (proto3: 0 is unset)',
      body([100, 0]),
      'destinations [1] have none',
    ],
    ['missing hostnames', { rules: body().rules ?? [] }, 'hostnames is required'],
    ['missing rules', { hostnames: ['shop.internal'] }, 'rules is required'],
    ['empty rules', { hostnames: ['shop.internal'], rules: [] }, 'rules is required'],
  ];

  it.each(cases)('rejects %s with 400 INVALID_ARGUMENT naming the problem', async (_what, route, message) => {
    const rejected = await apiError(create(nextId(), route));
    expect(rejected.status).toBe(400);
    expect(rejected.error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
    expect(rejected.error['message']).toContain(message);
  });

  it('validates a patch against the route it would produce', async () => {
    const id = nextId();
    await create(id);
    const name = `${PARENT}/httpRoutes/${id}`;
    const rejected = await apiError(
      routes.patch({ name, updateMask: 'rules', requestBody: body([-1, 101]) }),
    );
    expect(rejected.error['message']).toContain('must not be negative');
    const noHostnames = await apiError(routes.patch({ name, updateMask: 'hostnames', requestBody: {} }));
    expect(noHostnames.error['message']).toContain('hostnames is required');
  });

  it('sends the error body in exactly the real API shape', async () => {
    const response = await fetch(`${server.url}v1/${PARENT}/httpRoutes?httpRouteId=${nextId()}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hostnames: ['x.internal'] }),
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(await response.json()).toEqual({
      error: {
        code: 400,
        message: 'Invalid HttpRoute: rules is required and must contain at least one rule.',
        status: 'INVALID_ARGUMENT',
      },
    });
  });
});

describe('patch and update masks', () => {
  it('replaces only the masked top-level fields and bumps updateTime strictly', async () => {
    const id = nextId();
    await create(id);
    const name = `${PARENT}/httpRoutes/${id}`;
    const before = await get(id);
    const stamps = [before.updateTime ?? ''];
    for (const weights of [
      [50, 50],
      [10, 90],
      [1, 99],
    ] as const) {
      await routes.patch({
        name,
        updateMask: 'rules',
        requestBody: { ...body(weights), labels: { replaced: 'no' }, hostnames: ['ignored.internal'] },
      });
      stamps.push((await get(id)).updateTime ?? '');
    }
    const after = await get(id);
    expect(after.rules).toEqual(body([1, 99]).rules);
    expect(after.labels).toEqual({ team: 'checkout' });
    expect(after.hostnames).toEqual(['shop.internal']);
    expect(after.createTime).toBe(before.createTime);
    for (const stamp of stamps) expect(stamp).toMatch(RFC3339_NANOS);
    expect([...stamps].sort()).toEqual(stamps);
    expect(new Set(stamps).size).toBe(stamps.length);
  });

  it('clears a masked field the body leaves out, and replaces everything without a mask', async () => {
    const id = nextId();
    await create(id, { ...body(), description: 'hand-written' });
    const name = `${PARENT}/httpRoutes/${id}`;
    await routes.patch({ name, updateMask: 'labels,description', requestBody: { labels: { a: 'b' } } });
    const masked = await get(id);
    expect(masked.labels).toEqual({ a: 'b' });
    expect(masked).not.toHaveProperty('description');

    await routes.patch({
      name,
      requestBody: { hostnames: ['new.internal'], rules: body([1, 1]).rules ?? [] },
    });
    const replaced = await get(id);
    expect(replaced.hostnames).toEqual(['new.internal']);
    expect(replaced).not.toHaveProperty('labels');
    expect(replaced.name).toBe(name);
  });

  it('rejects an unknown update mask path, naming it', async () => {
    const id = nextId();
    await create(id);
    const rejected = await apiError(
      routes.patch({
        name: `${PARENT}/httpRoutes/${id}`,
        updateMask: 'rules,rules.action',
        requestBody: body(),
      }),
    );
    expect(rejected.status).toBe(400);
    expect(rejected.error['message']).toContain("Invalid update mask path 'rules.action'");
  });

  it('rejects fields an HttpRoute does not have, naming them and where they are, and changes nothing', async () => {
    const id = nextId();
    await create(id);
    const name = `${PARENT}/httpRoutes/${id}`;
    const before = await get(id);
    const rules = body([1, 1]).rules ?? [];
    const withStray = (at: 'rule' | 'action' | 'destination') => {
      const copy = structuredClone(rules) as Record<string, unknown>[];
      const rule = copy[0] as Record<string, unknown>;
      const action = rule['action'] as Record<string, unknown>;
      const destination = (action['destinations'] as Record<string, unknown>[])[0] as Record<string, unknown>;
      ({ rule, action, destination })[at]['weigth'] = 5;
      return copy;
    };
    for (const [at, where] of [
      ['rule', 'http_route.rules[0]'],
      ['action', 'http_route.rules[0].action'],
      ['destination', 'http_route.rules[0].action.destinations[0]'],
    ] as const) {
      const rejected = await apiError(
        routes.patch({ name, updateMask: 'rules', requestBody: { rules: withStray(at) } }),
      );
      expect(rejected.status).toBe(400);
      expect(rejected.error['status']).toBe('INVALID_ARGUMENT');
      expect(rejected.error['message']).toBe(
        `Invalid JSON payload received. Unknown name "weigth" at '${where}': Cannot find field.`,
      );
    }
    const misspelt = { ...body(), hostname: 'x' };
    const top = await apiError(routes.patch({ name, requestBody: misspelt }));
    expect(top.error['message']).toContain(`Unknown name "hostname" at 'http_route'`);
    expect(await get(id)).toEqual(before);
  });
});

describe('long-running operations', () => {
  it('changes the route only when the operation completes, then tells subscribers', async () => {
    const id = nextId();
    await create(id);
    const name = `${PARENT}/httpRoutes/${id}`;
    server.store.setOperationDelay(60_000);
    let notified = 0;
    const unsubscribe = server.store.subscribe(() => {
      notified += 1;
    });
    try {
      const { data: started } = await routes.patch({
        name,
        updateMask: 'rules',
        requestBody: body([20, 80]),
      });
      expect(started.done).toBe(false);
      expect(started).not.toHaveProperty('response');
      expect(started.metadata).toMatchObject({ target: name, verb: 'update' });
      expect(started.metadata?.['createTime']).toMatch(RFC3339_NANOS);

      const pending = (await operations.get({ name: started.name ?? '' })).data;
      expect(pending.done).toBe(false);
      expect((await get(id)).rules).toEqual(body().rules);
      expect(notified).toBe(0);

      expect(server.store.completePendingOperations()).toBe(1);
      const done = (await operations.get({ name: started.name ?? '' })).data;
      expect(done.done).toBe(true);
      expect(done.metadata?.['endTime']).toMatch(RFC3339_NANOS);
      expect(done.response?.['rules']).toEqual(body([20, 80]).rules);
      expect(done.response?.['@type']).toBe('type.googleapis.com/google.cloud.networkservices.v1.HttpRoute');
      expect((await get(id)).rules).toEqual(body([20, 80]).rules);
      expect(notified).toBe(1);
    } finally {
      unsubscribe();
    }
  });

  it('completes on its own after the configured delay', async () => {
    const id = nextId();
    server.store.setOperationDelay(20);
    const started = await create(id);
    expect(started.done).toBe(false);
    await new Promise<void>((resolve) => {
      const unsubscribe = server.store.subscribe(() => {
        unsubscribe();
        resolve();
      });
    });
    expect((await operations.get({ name: started.name ?? '' })).data.done).toBe(true);
    expect((await get(id)).name).toBe(`${PARENT}/httpRoutes/${id}`);
  });

  it('finishes with an error (and no change) when told to fail', async () => {
    const id = nextId();
    await create(id);
    const before = await get(id);
    server.store.failOperations(1, 'FAILED_PRECONDITION', 'Mesh is not of type SIDECAR.');
    const { data: op } = await routes.patch({
      name: `${PARENT}/httpRoutes/${id}`,
      updateMask: 'rules',
      requestBody: body([1, 2]),
    });
    expect(op.done).toBe(true);
    expect(op.error).toEqual({ code: 9, message: 'Mesh is not of type SIDECAR.' });
    expect(op).not.toHaveProperty('response');
    expect(await get(id)).toEqual(before);
  });

  it('cancels a running operation (CANCELLED, no change) and leaves a finished one as it is', async () => {
    const id = nextId();
    await create(id);
    const name = `${PARENT}/httpRoutes/${id}`;
    server.store.setOperationDelay(60_000);
    try {
      const { data: started } = await routes.patch({
        name,
        updateMask: 'rules',
        requestBody: body([20, 80]),
      });
      expect((await operations.cancel({ name: started.name ?? '', requestBody: {} })).data).toEqual({});
      const cancelled = (await operations.get({ name: started.name ?? '' })).data;
      expect(cancelled).toMatchObject({
        done: true,
        error: { code: 1 },
        metadata: { requestedCancellation: true },
      });
      expect(server.store.completePendingOperations()).toBe(0);
      expect((await get(id)).rules).toEqual(body().rules);
      // Cancelling it again, or a finished operation, changes nothing.
      expect((await operations.cancel({ name: started.name ?? '', requestBody: {} })).data).toEqual({});
      expect((await operations.get({ name: started.name ?? '' })).data).toEqual(cancelled);
    } finally {
      server.store.setOperationDelay(0);
    }
  });

  it('only notes a cancel request when told to ignore cancellation (Google: best effort)', async () => {
    const id = nextId();
    await create(id);
    const name = `${PARENT}/httpRoutes/${id}`;
    server.store.setOperationDelay(60_000);
    server.store.setCancellation(false);
    try {
      const { data: started } = await routes.patch({
        name,
        updateMask: 'rules',
        requestBody: body([20, 80]),
      });
      await operations.cancel({ name: started.name ?? '', requestBody: {} });
      expect((await operations.get({ name: started.name ?? '' })).data).toMatchObject({
        done: false,
        metadata: { requestedCancellation: true },
      });
      expect(server.store.completePendingOperations()).toBe(1);
      expect((await get(id)).rules).toEqual(body([20, 80]).rules);
    } finally {
      server.store.setCancellation(true);
      server.store.setOperationDelay(0);
    }
  });

  it('lists operations newest first in pages, a person’s edit among them as a finished update', async () => {
    const id = nextId();
    await create(id);
    const name = `${PARENT}/httpRoutes/${id}`;
    server.store.editByHand(name, (r) => {
      r.labels = { by: 'hand' };
    });
    const first = (await operations.list({ name: PARENT, pageSize: 1 })).data;
    expect(first.operations?.[0]).toMatchObject({ done: true, metadata: { target: name, verb: 'update' } });
    expect(first.operations?.[0]?.metadata?.['endTime']).toBe((await get(id)).updateTime);
    expect((first.operations?.[0]?.response as HttpRoute | undefined)?.labels).toEqual({ by: 'hand' });
    const second = (
      await operations.list({ name: PARENT, pageSize: 1, pageToken: first.nextPageToken ?? '' })
    ).data;
    expect(second.operations?.[0]).toMatchObject({ metadata: { target: name, verb: 'create' } });
  });

  it('deletes through an operation whose response is Empty', async () => {
    const id = nextId();
    await create(id);
    const { data: op } = await routes.delete({ name: `${PARENT}/httpRoutes/${id}` });
    expect(op.response).toEqual({ '@type': 'type.googleapis.com/google.protobuf.Empty' });
    expect(op.metadata?.['verb']).toBe('delete');
    expect((await apiError(get(id))).status).toBe(404);
  });
});

describe('list', () => {
  it('pages through the routes of one parent with pageSize and pageToken', async () => {
    const parent = 'projects/listing/locations/global';
    const ids = ['a-1', 'a-2', 'a-3', 'a-4', 'a-5'];
    for (const id of ids) await routes.create({ parent, httpRouteId: id, requestBody: body() });
    const seen: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const { data } = await routes.list({ parent, pageSize: 2, ...(pageToken ? { pageToken } : {}) });
      seen.push(...(data.httpRoutes ?? []).map((r) => r.name ?? ''));
      pageToken = data.nextPageToken ?? undefined;
      pages += 1;
    } while (pageToken !== undefined);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids.map((id) => `${parent}/httpRoutes/${id}`));
    expect((await routes.list({ parent: 'projects/empty/locations/global' })).data).toEqual({});
    expect((await apiError(routes.list({ parent, pageToken: 'garbage' }))).error['message']).toContain(
      'Invalid page token',
    );
  });
});

describe('test hooks', () => {
  it('injects 503s (GET is retried by the client, PATCH is not) and 403s naming the permission', async () => {
    const id = nextId();
    await create(id);
    const name = `${PARENT}/httpRoutes/${id}`;
    const gets = server.store.requestCount('get');
    server.store.failNext('get', 503, 1);
    expect((await routes.get({ name })).data.name).toBe(name);
    expect(server.store.requestCount('get') - gets).toBe(2);

    server.store.failNext('patch', 503, 1);
    const unavailable = await apiError(routes.patch({ name, updateMask: 'rules', requestBody: body() }));
    expect(unavailable).toMatchObject({ status: 503, error: { status: 'UNAVAILABLE' } });

    server.store.failNext('getOperation', 403, 1);
    const denied = await apiError(operations.get({ name: `${PARENT}/operations/any` }));
    expect(denied).toMatchObject({ status: 403, error: { code: 403, status: 'PERMISSION_DENIED' } });
    expect(denied.error['message']).toContain("Permission 'networkservices.operations.get' denied");
  });

  it('edits a route by hand: validated, with a new updateTime, and visible in the feed', async () => {
    const id = nextId();
    await create(id);
    const name = `${PARENT}/httpRoutes/${id}`;
    const before = await get(id);
    let notified = 0;
    const unsubscribe = server.store.subscribe(() => {
      notified += 1;
    });
    try {
      server.store.editByHand(name, (route) => {
        route.labels = { editedBy: 'alice' };
      });
      expect(() =>
        server.store.editByHand(name, (route) => {
          route.hostnames = [];
        }),
      ).toThrow('hostnames is required');
    } finally {
      unsubscribe();
    }
    const after = await get(id);
    expect(after.labels).toEqual({ editedBy: 'alice' });
    expect(after.updateTime).not.toBe(before.updateTime);
    expect(notified).toBe(1);
    expect(server.store.routes().find((r) => r.name === name)).toEqual(after);
  });
});
