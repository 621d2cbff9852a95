/**
 * A local stand-in for the Network Services v1 REST API (HttpRoutes, GrpcRoutes, TcpRoutes,
 * TlsRoutes and their operations) on
 * 127.0.0.1, serving exactly the paths the `googleapis` client sends. Point the client at it
 * with `networkservices({version: 'v1', rootUrl: url})` and no auth. It also answers Cloud
 * Resource Manager v3 `projects.testIamPermissions` (`cloudresourcemanager({version: 'v3',
 * rootUrl: url})`) for the permissions of its own methods: the stand-in has no authentication, so
 * every caller holds them all except those a test revoked (permissions.ts).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listen, sendJson } from '../net.ts';
import { DEFAULT_SEED, type DelaySpec, delaySource, streamFor } from '../timing.ts';
import { ApiError, invalidArgument, notFound } from './api-error.ts';
import type { RequestKind } from './faults.ts';
import { LocalNetworkServices } from './local-network-services.ts';
import { operationName, type Parent, parentName, routeName } from './resource-names.ts';
import type { Route } from './route-feed.ts';
import { isRouteKind, KINDS, type RouteKind } from './route-kinds.ts';

export interface NetworkServicesServerOptions {
  /** Port on 127.0.0.1; default: one the system picks. */
  readonly port?: number;
  /**
   * How long each write's operation takes to complete: fixed, or a range drawn from per
   * operation with a generator seeded by `seed`; default 0 (done before the response).
   */
  readonly operationDelayMs?: DelaySpec;
  /** Seed of the operation-time generator; default DEFAULT_SEED. */
  readonly seed?: number;
  /** Routes that exist from the start (full names). */
  readonly routes?: readonly Route[];
}

export interface NetworkServicesServer {
  /** Root URL for the client's `rootUrl` (ends with a slash). */
  readonly url: string;
  readonly port: number;
  /** State and test hooks; also the RouteFeed for the local mesh. */
  readonly store: LocalNetworkServices;
  close(): Promise<void>;
}

interface Call {
  readonly kind: RequestKind;
  /** Resource named in permission errors. */
  readonly resource: string;
  /** The route collection the request is about (null: operations), for the permission's name. */
  readonly collection: RouteKind | null;
  readonly hasBody: boolean;
  readonly run: (body: unknown) => unknown;
}

const PATH =
  /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/(httpRoutes|grpcRoutes|tcpRoutes|tlsRoutes|operations)(?:\/([^/]+))?$/;
const MAX_BODY_BYTES = 4 * 1024 * 1024;

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw invalidArgument(`Malformed percent-encoding in URL segment '${segment}'.`);
  }
}

/** operations.list, operations.get and operations.cancel of a location (shared by every route kind). */
function operationCall(
  store: LocalNetworkServices,
  method: string,
  parent: Parent,
  id: string | null,
  q: URLSearchParams,
): Call | null {
  const api = store.service;
  const base = { collection: null, resource: '' } as const;
  if (id === null && method === 'GET') {
    const run = () => api.listOperations(parent, q.get('pageSize'), q.get('pageToken'));
    return { ...base, kind: 'listOperations', resource: parentName(parent), hasBody: false, run };
  }
  if (id?.endsWith(':cancel') && method === 'POST') {
    const name = operationName(parent, id.slice(0, -':cancel'.length));
    return {
      ...base,
      kind: 'cancelOperation',
      resource: name,
      hasBody: true,
      run: () => api.cancelOperation(name),
    };
  }
  if (id !== null && method === 'GET') {
    const name = operationName(parent, id);
    return {
      ...base,
      kind: 'getOperation',
      resource: name,
      hasBody: false,
      run: () => api.getOperation(name),
    };
  }
  return null;
}

/** list and create of a collection; get, patch and delete of one route. */
function routeCall(
  store: LocalNetworkServices,
  method: string,
  parent: Parent,
  collection: RouteKind,
  id: string | null,
  q: URLSearchParams,
): Call | null {
  const api = store.services[collection];
  if (id === null) {
    const base = { collection, resource: parentName(parent) };
    if (method === 'GET') {
      const run = () => api.list(parent, q.get('pageSize'), q.get('pageToken'));
      return { ...base, kind: 'list', hasBody: false, run };
    }
    if (method !== 'POST') return null;
    const run = (body: unknown) => api.create(parent, q.get(KINDS[collection].idParameter), body);
    return { ...base, kind: 'create', hasBody: true, run };
  }
  const name = routeName(parent, id, collection);
  const base = { collection, resource: name };
  if (method === 'GET') return { ...base, kind: 'get', hasBody: false, run: () => api.get(name) };
  if (method === 'PATCH') {
    return {
      ...base,
      kind: 'patch',
      hasBody: true,
      run: (body) => api.patch(parent, name, q.get('updateMask'), body),
    };
  }
  if (method === 'DELETE')
    return { ...base, kind: 'delete', hasBody: false, run: () => api.delete(parent, name) };
  return null;
}

/** The API method a request calls, or NOT_FOUND as Google answers for an unknown path or verb. */
function callFor(store: LocalNetworkServices, method: string, url: URL): Call {
  const m = PATH.exec(url.pathname);
  if (m === null) throw notFound(`The requested URL ${url.pathname} was not found on this server.`);
  const parent: Parent = { project: decode(m[1] ?? ''), location: decode(m[2] ?? '') };
  const collection = m[3] ?? '';
  const id = m[4] === undefined ? null : decode(m[4]);
  const call = isRouteKind(collection)
    ? routeCall(store, method, parent, collection, id, url.searchParams)
    : operationCall(store, method, parent, id, url.searchParams);
  if (call !== null) return call;
  throw notFound(`Method ${method} ${url.pathname} is not part of the Network Services v1 API.`);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw invalidArgument(`Request body larger than ${MAX_BODY_BYTES} bytes.`);
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw invalidArgument(`Invalid JSON payload received. ${(error as Error).message}`);
  }
}

const TEST_IAM = /^\/v3\/projects\/([^/:]+):testIamPermissions$/;

/** projects.testIamPermissions: the requested permissions the caller holds here. */
async function testIamPermissions(store: LocalNetworkServices, req: IncomingMessage): Promise<unknown> {
  if (req.method !== 'POST')
    throw notFound(`Method ${req.method} is not part of projects.testIamPermissions.`);
  const body = (await readJson(req)) as { permissions?: unknown };
  const asked = Array.isArray(body.permissions) ? body.permissions.filter((p) => typeof p === 'string') : [];
  const held = store.permissions.held(asked);
  return held.length === 0 ? {} : { permissions: held };
}

async function handle(store: LocalNetworkServices, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (TEST_IAM.test(path)) {
      sendJson(res, 200, await testIamPermissions(store, req));
      return;
    }
    const call = callFor(store, req.method ?? 'GET', new URL(req.url ?? '/', 'http://127.0.0.1'));
    const body = call.hasBody ? await readJson(req) : undefined;
    await store.faults.admit(call.kind, call.resource, call.collection);
    store.permissions.check(call.kind, call.resource, call.collection);
    sendJson(res, 200, call.run(body));
  } catch (error) {
    const apiError = ApiError.from(error);
    sendJson(res, apiError.httpStatus, apiError.body());
  }
}

export async function startNetworkServicesServer(
  options: NetworkServicesServerOptions = {},
): Promise<NetworkServicesServer> {
  const store = new LocalNetworkServices(
    delaySource(options.operationDelayMs ?? 0, streamFor(options.seed ?? DEFAULT_SEED, 'operations')),
  );
  for (const route of options.routes ?? []) store.seed(route);
  const server = createServer((req, res) => {
    void handle(store, req, res);
  });
  const { port, url } = await listen(server, options.port);
  return {
    url: `${url}/`,
    port,
    store,
    close: async () => {
      store.close();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}
