/**
 * The local mesh data plane end to end: the proxy following an in-process RouteFeed to two
 * demo backends, recording into a counting recorder, driven by the load generator.
 */
import { createHash } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type DemoBackend,
  remoteStats,
  setRemoteBehaviour,
  startDemoBackend,
} from '../../local/mesh/demo-backend.ts';
import { CountingRecorder, MemoryRouteFeed } from '../../local/mesh/in-memory.ts';
import { runLoad } from '../../local/mesh/load.ts';
import { BACKEND_HEADER, type MeshProxy, startMeshProxy } from '../../local/mesh/proxy.ts';
import type { HttpRoute, RouteRule } from '../../local/mesh/route-types.ts';
import { seededRandom } from '../../local/mesh/weights.ts';
import { freePort } from '../../local/net.ts';

const P = 'projects/demo/locations/global';
const ROUTE = `${P}/httpRoutes/shop`;
const STABLE = `${P}/backendServices/shop-stable`;
const CANARY = `${P}/backendServices/shop-canary`;
const HOST = 'shop.internal';

function split(canaryWeight: number): RouteRule {
  const destinations = [
    { serviceName: STABLE, weight: 100 - canaryWeight },
    { serviceName: CANARY, weight: canaryWeight },
  ].filter((d) => d.weight > 0);
  return { matches: [{ prefixMatch: '/' }], action: { destinations } };
}

function shopRoute(...rules: RouteRule[]): HttpRoute {
  return { name: ROUTE, hostnames: [HOST], meshes: [`${P}/meshes/main`], rules };
}

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** One request with a chosen Host header (fetch cannot set it). */
function send(
  url: string,
  options: {
    host?: string;
    path?: string;
    method?: string;
    headers?: Record<string, string>;
    body?: Buffer;
  } = {},
): Promise<Answer> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        hostname: target.hostname,
        port: target.port,
        method: options.method ?? 'GET',
        path: options.path ?? '/',
        headers: { host: options.host ?? HOST, ...(options.headers ?? {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

function echoed(answer: Answer): { path: string; query: string; headers: Record<string, string> } {
  return JSON.parse(answer.body.toString('utf8')) as {
    path: string;
    query: string;
    headers: Record<string, string>;
  };
}

let stable: DemoBackend;
let canary: DemoBackend;
let feed: MemoryRouteFeed;
let recorder: CountingRecorder;
let proxy: MeshProxy;

beforeAll(async () => {
  stable = await startDemoBackend({ name: 'shop-stable', port: await freePort() });
  canary = await startDemoBackend({ name: 'shop-canary', port: await freePort() });
});

afterAll(async () => {
  await Promise.all([stable.close(), canary.close()]);
});

beforeEach(async () => {
  stable.resetStats();
  canary.resetStats();
  stable.setBehaviour({ errorRatio: 0, latencyMs: 0 });
  canary.setBehaviour({ errorRatio: 0, latencyMs: 0 });
  feed = new MemoryRouteFeed([shopRoute(split(0))]);
  recorder = new CountingRecorder();
  proxy = await startMeshProxy({
    port: await freePort(),
    feed,
    recorder,
    random: seededRandom(20_260_523),
    // One key by full name, one by last segment; Cloud Run service names differ from both.
    backends: {
      [STABLE]: { url: stable.url, service: 'shop-v1' },
      'shop-canary': { url: canary.url, service: 'shop-v2' },
    },
  });
});

afterEach(async () => {
  await proxy.close();
});

describe('weighted split', () => {
  it('sends 20% of 2,000 requests to the canary (99.9% binomial interval) and records exactly what each backend served', async () => {
    feed.put(shopRoute(split(20)));
    const n = 2000;
    const load = await runLoad({ url: proxy.url, host: HOST, maxRequests: n, concurrency: 16 });
    expect(load.completed).toBe(n);
    expect(load.errors).toBe(0);

    const servedByCanary = canary.stats().total;
    const halfWidth = 3.2905 * Math.sqrt(n * 0.2 * 0.8); // z for 99.9% two-sided
    expect(Math.abs(servedByCanary - n * 0.2)).toBeLessThanOrEqual(halfWidth);
    expect(stable.stats().total + servedByCanary).toBe(n);

    const { service: _s, ...stableCounts } = stable.stats();
    const { service: _c, ...canaryCounts } = canary.stats();
    expect(recorder.counts()).toEqual({ 'shop-v1': stableCounts, 'shop-v2': canaryCounts });
    expect(proxy.stats().backends).toEqual({ 'shop-stable': stableCounts, 'shop-canary': canaryCounts });
    expect(load.byBackend).toEqual({ 'shop-stable': stableCounts, 'shop-canary': canaryCounts });
  });
});

describe('route changes', () => {
  it('applies a route written through the feed to the very next request', async () => {
    const before = await send(proxy.url);
    expect(before.headers[BACKEND_HEADER]).toBe('shop-stable');
    const reloads = proxy.stats().routeReloads;

    feed.put(shopRoute(split(100)));
    const after = await send(proxy.url);
    expect(after.headers[BACKEND_HEADER]).toBe('shop-canary');
    expect(proxy.stats().routeReloads).toBe(reloads + 1);

    feed.set([]);
    const gone = await send(proxy.url);
    expect(gone.status).toBe(404);
    expect(gone.body.toString()).toContain(`no route for host "${HOST}"`);
  });
});

describe('matching', () => {
  it('routes by header and query matches, first matching rule first, catch-all last', async () => {
    feed.put(
      shopRoute(
        {
          matches: [
            { prefixMatch: '/', headers: [{ header: 'x-canary', exactMatch: 'always' }] },
            { prefixMatch: '/', queryParameters: [{ queryParameter: 'canary', presentMatch: true }] },
          ],
          action: { destinations: [{ serviceName: CANARY }] },
        },
        {
          matches: [
            { prefixMatch: '/', headers: [{ header: 'x-tenant', prefixMatch: 'eu-', invertMatch: true }] },
          ],
          action: { destinations: [{ serviceName: CANARY, weight: 100 }] },
        },
        { action: { destinations: [{ serviceName: STABLE }] } },
      ),
    );
    const backendOf = async (path: string, headers: Record<string, string> = {}): Promise<unknown> =>
      (await send(proxy.url, { path, headers })).headers[BACKEND_HEADER];
    expect(await backendOf('/', { 'x-canary': 'always' })).toBe('shop-canary');
    expect(await backendOf('/', { 'X-Canary': 'never' })).toBe('shop-stable');
    expect(await backendOf('/items?canary')).toBe('shop-canary');
    expect(await backendOf('/', { 'x-tenant': 'us-east' })).toBe('shop-canary');
    expect(await backendOf('/', { 'x-tenant': 'eu-west' })).toBe('shop-stable');
    expect(await backendOf('/')).toBe('shop-stable');
  });

  it('serves only the routes of its mesh when given one', async () => {
    const other = await startMeshProxy({
      feed,
      recorder,
      backends: { [STABLE]: stable.url },
      mesh: `${P}/meshes/other`,
    });
    try {
      expect((await send(other.url)).status).toBe(404);
      feed.put({ ...shopRoute(split(0)), meshes: [`${P}/meshes/main`, `${P}/meshes/other`] });
      expect((await send(other.url)).headers[BACKEND_HEADER]).toBe('shop-stable');
    } finally {
      await other.close();
    }
  });

  it('answers 404 when no rule matches and 503 for a backend service without a local backend', async () => {
    feed.put(
      shopRoute(
        {
          matches: [{ fullPathMatch: '/ghost' }],
          action: { destinations: [{ serviceName: `${P}/backendServices/ghost` }] },
        },
        { matches: [{ prefixMatch: '/api' }], action: { destinations: [{ serviceName: STABLE }] } },
      ),
    );
    const noRule = await send(proxy.url, { path: '/else' });
    expect(noRule.status).toBe(404);
    expect(noRule.body.toString()).toContain(`no rule of route ${ROUTE} matches GET /else`);
    const unknown = await send(proxy.url, { path: '/ghost' });
    expect(unknown.status).toBe(503);
    expect(unknown.body.toString()).toContain(
      `no local backend configured for backend service "${P}/backendServices/ghost"`,
    );
    expect(proxy.stats().local).toMatchObject({ total: 2, '4xx': 1, '5xx': 1 });
    expect(recorder.total()).toBe(0);
  });
});

describe('actions', () => {
  it('applies header modifiers and URL rewrites before forwarding', async () => {
    feed.put(
      shopRoute({
        matches: [{ prefixMatch: '/api/' }],
        action: {
          destinations: [{ serviceName: STABLE, requestHeaderModifier: { set: { 'x-backend': 'stable' } } }],
          requestHeaderModifier: {
            add: { 'x-route': 'shop' },
            remove: ['x-debug'],
            set: { 'x-env': 'local' },
          },
          responseHeaderModifier: { set: { 'cache-control': 'no-store' } },
          urlRewrite: { pathPrefixRewrite: '/v2/', hostRewrite: 'stable.internal' },
          retryPolicy: { retryConditions: ['5xx'], numRetries: 2 },
        },
      }),
    );
    expect(proxy.notes()).toEqual([`${ROUTE} rule 0: ignored by the local mesh: retryPolicy`]);
    const answer = await send(proxy.url, {
      path: '/api/items?id=7',
      headers: { 'x-debug': '1', 'x-env': 'prod', 'x-route': 'client' },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers['cache-control']).toBe('no-store');
    const seen = echoed(answer);
    expect(seen.path).toBe('/v2/items');
    expect(seen.query).toBe('id=7');
    expect(seen.headers).toMatchObject({
      host: 'stable.internal',
      'x-env': 'local',
      'x-route': 'client, shop',
      'x-backend': 'stable',
    });
    expect(seen.headers['x-debug']).toBeUndefined();
  });

  it('answers instead of crashing when a header modifier holds a value HTTP cannot carry', async () => {
    feed.put(
      shopRoute(
        {
          matches: [{ prefixMatch: '/req' }],
          action: {
            destinations: [{ serviceName: STABLE }],
            requestHeaderModifier: { set: { 'x-bad': 'a\nb' } },
          },
        },
        {
          action: {
            destinations: [{ serviceName: STABLE }],
            responseHeaderModifier: { set: { 'x-bad': 'a\nb' } },
          },
        },
      ),
    );
    expect((await send(proxy.url, { path: '/req' })).status).toBe(500);
    expect((await send(proxy.url, { path: '/res' })).status).toBe(502);
    expect((await send(proxy.url, { path: '/req' })).status).toBe(500);
  });

  it('answers 504 and records it against the backend when the route timeout fires first', async () => {
    canary.setBehaviour({ latencyMs: 2000 });
    feed.put(shopRoute({ action: { destinations: [{ serviceName: CANARY }], timeout: '0.05s' } }));
    const answer = await send(proxy.url);
    expect(answer.status).toBe(504);
    expect(answer.body.toString()).toContain('upstream request timeout');
    expect(recorder.counts()).toEqual({ 'shop-v2': expect.objectContaining({ total: 1, '5xx': 1 }) });
  });

  it('answers redirects, direct responses and injected aborts itself, without recording them', async () => {
    feed.put(
      shopRoute(
        {
          matches: [{ prefixMatch: '/old' }],
          action: { redirect: { prefixRewrite: '/new', responseCode: 'FOUND' } },
        },
        {
          matches: [{ prefixMatch: '/static' }],
          action: { directResponse: { status: 418, stringBody: 'teapot' } },
        },
        {
          action: {
            destinations: [{ serviceName: STABLE }],
            faultInjectionPolicy: { abort: { httpStatus: 503, percentage: 100 } },
          },
        },
      ),
    );
    const redirect = await send(proxy.url, { path: '/old/x?q=1' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.location).toBe(`http://${HOST}/new/x?q=1`);
    const direct = await send(proxy.url, { path: '/static' });
    expect([direct.status, direct.body.toString()]).toEqual([418, 'teapot']);
    const aborted = await send(proxy.url, { path: '/any' });
    expect(aborted.status).toBe(503);
    expect(aborted.body.toString()).toContain('fault filter abort');
    expect(recorder.total()).toBe(0);
    expect(stable.stats().total).toBe(0);
    expect(proxy.stats().local.total).toBe(3);
  });
});

describe('streaming', () => {
  let echo: Server;
  let echoUrl: string;

  beforeAll(async () => {
    echo = createServer((req, res) => {
      res.writeHead(201, { 'x-method': req.method ?? '', 'x-path': req.url ?? '' });
      req.pipe(res);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => echo.close(() => resolve()));
  });

  it('forwards method, path and a large body both ways', async () => {
    const echoProxy = await startMeshProxy({
      feed: new MemoryRouteFeed([
        {
          name: 'r',
          hostnames: ['echo.internal'],
          rules: [{ action: { destinations: [{ serviceName: 'echo' }] } }],
        },
      ]),
      backends: { echo: echoUrl },
      recorder,
    });
    try {
      const body = Buffer.alloc(3 * 1024 * 1024, 'abcdefgh');
      const answer = await send(echoProxy.url, {
        host: 'echo.internal',
        method: 'POST',
        path: '/upload?x=1',
        body,
      });
      expect(answer.status).toBe(201);
      expect(answer.headers['x-method']).toBe('POST');
      expect(answer.headers['x-path']).toBe('/upload?x=1');
      const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
      expect(digest(answer.body)).toBe(digest(body));
      expect(recorder.counts()).toEqual({ echo: expect.objectContaining({ total: 1, '2xx': 1 }) });
    } finally {
      await echoProxy.close();
    }
  });
});

describe('runtime behaviour changes', () => {
  it('shows a canary turned bad through its admin endpoint in the recorded counts', async () => {
    feed.put(shopRoute(split(50)));
    const healthy = await runLoad({ url: proxy.url, host: HOST, maxRequests: 200, concurrency: 8 });
    expect(healthy.codes['5xx']).toBe(0);

    await setRemoteBehaviour(canary.url, { errorRatio: 1, errorStatus: 503 });
    const bad = await runLoad({ url: proxy.url, host: HOST, maxRequests: 200, concurrency: 8, rps: 2000 });
    expect(bad.completed).toBe(200);

    const counts = recorder.counts();
    const canaryServed = await remoteStats(canary.url);
    expect(counts['shop-v2']?.['5xx']).toBe(canaryServed['5xx']);
    expect(canaryServed['5xx']).toBe(bad.byBackend['shop-canary']?.total);
    expect(canaryServed['5xx']).toBeGreaterThan(0);
    expect(counts['shop-v1']?.['5xx']).toBe(0);
    expect(counts['shop-v1']?.total).toBe(stable.stats().total);
  });

  it('rejects a bad behaviour with a message naming the field', async () => {
    await expect(setRemoteBehaviour(canary.url, { errorRatio: 2 })).rejects.toThrow(
      /errorRatio must be between 0 and 1/,
    );
  });
});
