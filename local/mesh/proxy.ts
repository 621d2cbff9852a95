/**
 * The local Cloud Service Mesh data plane: an HTTP proxy that routes each request the way the
 * mesh clients (Envoy sidecars, Cloud Run's managed mesh) apply an HttpRoute — by Host header,
 * first matching rule, weighted destination — to the local backend configured for the chosen
 * backend service, and records what each backend answered as Cloud Run would (service name,
 * response code, latency measured here).
 *
 * Routes come from a RouteFeed; the proxy re-reads them on every notification and hands them
 * to its clients through a Propagation (propagation.ts): with `propagationMs` each client
 * applies a change after its own delay, so old and new splits coexist for a while; with 0 the
 * request after a completed write already sees it. With `keepServed` the proxy keeps a record
 * of each request it forwarded: when it ended, which backend answered, and the shares of the
 * rule the serving client used (what Monitoring cannot tell: under which split it was served). Send requests to it
 * with the route's hostname in the Host header, or use it as an HTTP proxy
 * (`curl -x http://127.0.0.1:PORT http://shop.internal/`).
 *
 * What the proxy answers itself (counted under `local`, never recorded): no route for the
 * host or no matching rule → 404; a rule without destinations or a backend service without a
 * configured local backend → 503; redirect and directResponse actions; injected fault aborts.
 * Recorded against the chosen backend: its response; 503 when it cannot be reached (Envoy's
 * "upstream connect error"); 504 when the route timeout fires before its response starts; 502
 * when its response headers cannot be forwarded. A request whose client leaves before any
 * answer is not recorded (counted as `abandoned`). Any other throw answers 500 locally.
 * Rule actions honoured and ignored: see actions.ts.
 */
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { performance } from 'node:perf_hooks';
import { lastSegment } from '../../functions/core/resource-name.ts';
import type { RequestRecorder } from '../monitoring/request-recorder.ts';
import { listen } from '../net.ts';
import type { HttpRoute, RouteFeed } from '../network-services/route-feed.ts';
import { DEFAULT_SEED, type DelaySpec, streamFor } from '../timing.ts';
import {
  applyHeaderModifier,
  decideFault,
  type HeaderBag,
  ignoredActionFields,
  redirectFor,
  rewritePath,
  routeTimeoutMs,
} from './actions.ts';
import { type CodeCounts, countStatus, emptyCounts } from './codes.ts';
import { type RequestView, type RuleSelection, select } from './match.ts';
import { Propagation } from './propagation.ts';
import type { RouteAction, RouteDestination } from './route-types.ts';
import { chooseDestination, destinationShares, type RandomSource } from './weights.ts';

export interface MeshBackend {
  /** Base URL of the local HTTP service, e.g. `http://127.0.0.1:8081`; unset: it serves no HTTPRoute. */
  readonly url?: string;
  /** Cloud Run service name for the recorder; default: the backend service's last path segment. */
  readonly service?: string;
  /** `host:port` of its gRPC (HTTP/2 cleartext) server, for GRPCRoutes (grpc-proxy.ts). */
  readonly grpc?: string;
  /** `host:port` of its TCP server, for TCPRoutes (stream-proxy.ts). */
  readonly tcp?: string;
  /** `host:port` of its TLS server, for TLSRoutes (passthrough: the mesh never terminates TLS). */
  readonly tls?: string;
}

export interface MeshProxyOptions {
  /** Port on the listen address; default: one the system picks. */
  readonly port?: number;
  /** Listen address; default 127.0.0.1. */
  readonly host?: string;
  readonly feed: RouteFeed;
  /**
   * Backend services → local backends. Keys are full backend service names
   * (`projects/P/locations/global/backendServices/shop-canary`) or their last path segment.
   */
  readonly backends: Readonly<Record<string, string | MeshBackend>>;
  readonly recorder: RequestRecorder;
  /** Source for weighted choices and fault percentages; default Math.random. */
  readonly random?: RandomSource;
  /** Serve only routes attached to this mesh (full name); default: every route of the feed. */
  readonly mesh?: string;
  /** Timeout of rules that set none, in ms (0 = none); default 15 000 as Envoy's route default. */
  readonly defaultTimeoutMs?: number;
  /** Receives notes about the routes (ignored action fields, failed reads); default: dropped. */
  readonly log?: (line: string) => void;
  /** Delay between a route change and each client applying it; default 0 (at once, everywhere). */
  readonly propagationMs?: DelaySpec;
  /** Clients that pick up route changes independently; default 8. */
  readonly clients?: number;
  /** Seed of the propagation delays and of which client serves a request; default DEFAULT_SEED. */
  readonly seed?: number;
  /** How many forwarded requests `served()` keeps (newest); default 0. */
  readonly keepServed?: number;
}

/** One forwarded request as the mesh saw it. */
export interface ServedRequest {
  /** When it ended (ms since the epoch): the moment Cloud Run's metrics count it. */
  readonly at: number;
  /** When the serving client picked its route table for it (ms since the epoch). */
  readonly routedAt: number;
  readonly route: string;
  /** Backend service (last path segment) that answered. */
  readonly backend: string;
  readonly responseCode: number;
  /** Share of each backend service (last path segment) in the rule the serving client used. */
  readonly shares: Readonly<Record<string, number>>;
}

export interface MeshProxyStats {
  /** Responses per backend service (last path segment of its name), as recorded. */
  readonly backends: Readonly<Record<string, CodeCounts>>;
  /** Answers the proxy gave itself (404 no route, 503 unknown backend, redirects, faults…). */
  readonly local: CodeCounts;
  /** Requests whose client went away before any answer. */
  readonly abandoned: number;
  /** Times the routes were read (the first read included). */
  readonly routeReloads: number;
}

export interface MeshProxy {
  readonly url: string;
  readonly port: number;
  stats(): MeshProxyStats;
  /** Notes on the routes now served: action fields the local mesh ignores. */
  notes(): readonly string[];
  /** The last `keepServed` forwarded requests, oldest first. */
  served(): readonly ServedRequest[];
  /** Whether every client serves the newest routes. */
  propagated(): boolean;
  /** Stops listening and drops connections; the recorder is the caller's to flush and close. */
  close(): Promise<void>;
}

/** Response header naming the backend service that answered (for tests and the demo). */
export const BACKEND_HEADER = 'x-mesh-backend';

const DEFAULT_TIMEOUT_MS = 15_000;

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

interface ResolvedBackend {
  /** Backend service short name: the stats key and default service name. */
  readonly key: string;
  readonly service: string;
  readonly hostname: string;
  readonly port: number;
  readonly basePath: string;
}

interface RouteTable {
  readonly routes: readonly HttpRoute[];
  readonly notes: readonly string[];
}

function resolveBackends(backends: MeshProxyOptions['backends']): Map<string, ResolvedBackend> {
  const resolved = new Map<string, ResolvedBackend>();
  for (const [name, target] of Object.entries(backends)) {
    const spec: MeshBackend = typeof target === 'string' ? { url: target } : target;
    if (spec.url === undefined) continue;
    const url = new URL(spec.url);
    if (url.protocol !== 'http:') throw new Error(`backend "${name}": only http:// URLs are supported`);
    const key = lastSegment(name);
    resolved.set(name, {
      key,
      service: spec.service ?? key,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port === '' ? 80 : Number(url.port),
      basePath: url.pathname.replace(/\/+$/, ''),
    });
  }
  return resolved;
}

function compileTable(routes: readonly HttpRoute[], mesh: string | undefined): RouteTable {
  const served = mesh === undefined ? routes : routes.filter((r) => (r.meshes ?? []).includes(mesh));
  const notes: string[] = [];
  for (const route of served) {
    (route.rules ?? []).forEach((rule, index) => {
      const ignored = rule.action ? ignoredActionFields(rule.action) : [];
      if (ignored.length > 0) {
        notes.push(
          `${route.name ?? '(unnamed route)'} rule ${index}: ignored by the local mesh: ${ignored.join(', ')}`,
        );
      }
    });
  }
  return { routes: served, notes };
}

/** Splits the request target (origin form, or absolute form when used as an HTTP proxy). */
function requestView(req: IncomingMessage): RequestView {
  const target = req.url ?? '/';
  if (target.startsWith('http://') || target.startsWith('https://')) {
    try {
      const url = new URL(target);
      return { host: url.host, path: url.pathname, query: url.search.slice(1), headers: req.headers };
    } catch {
      // fall through: treat as a path
    }
  }
  const q = target.indexOf('?');
  return {
    host: req.headers.host ?? '',
    path: q === -1 ? target : target.slice(0, q),
    query: q === -1 ? '' : target.slice(q + 1),
    headers: req.headers,
  };
}

function outgoing(bag: HeaderBag): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, values] of Object.entries(bag)) {
    if (values.length === 0) continue;
    headers[name] = values.length === 1 ? (values[0] ?? '') : values;
  }
  return headers;
}

function copyHeaders(distinct: NodeJS.Dict<string[]>, connection: string | string[] | undefined): HeaderBag {
  const listed = new Set(
    (Array.isArray(connection) ? connection.join(',') : (connection ?? ''))
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter((t) => t !== ''),
  );
  const bag: HeaderBag = {};
  for (const [name, values] of Object.entries(distinct)) {
    if (values === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    bag[name] = [...values];
  }
  return bag;
}

function servedRecord(
  at: number,
  routedAt: number,
  selection: RuleSelection,
  action: RouteAction,
  backend: string,
  responseCode: number,
): ServedRequest {
  const destinations = action.destinations ?? [];
  const shares: Record<string, number> = {};
  destinationShares(destinations).forEach((share, i) => {
    const key = lastSegment(destinations[i]?.serviceName ?? '');
    shares[key] = (shares[key] ?? 0) + share;
  });
  return { at, routedAt, route: selection.route.name ?? '', backend, responseCode, shares };
}

function plain(res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
  const text = `${body}\n`;
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...extra,
  });
  res.end(text);
}

export async function startMeshProxy(options: MeshProxyOptions): Promise<MeshProxy> {
  const random = options.random ?? Math.random;
  const log = options.log ?? (() => {});
  const defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const backends = resolveBackends(options.backends);
  const agent = new Agent({ keepAlive: true });
  const backendCounts = new Map<string, CodeCounts>();
  const localCounts = emptyCounts();
  let abandoned = 0;
  let routeReloads = 0;
  const tables = new Propagation<RouteTable>(
    { routes: [], notes: [] },
    {
      delay: options.propagationMs ?? 0,
      random: streamFor(options.seed ?? DEFAULT_SEED, 'propagation'),
      ...(options.clients === undefined ? {} : { clients: options.clients }),
    },
  );
  const loggedNotes = new Set<string>();
  const keepServed = options.keepServed ?? 0;
  const served: ServedRequest[] = [];

  let started = false;
  const reload = (): void => {
    try {
      const table = compileTable(options.feed.routes(), options.mesh);
      if (started) tables.update(table);
      else tables.reset(table);
      started = true;
      routeReloads += 1;
      for (const note of table.notes) {
        if (loggedNotes.has(note)) continue;
        loggedNotes.add(note);
        log(note);
      }
    } catch (error) {
      log(`route feed read failed, keeping the previous routes: ${(error as Error).message}`);
    }
  };
  const unsubscribe = options.feed.subscribe(reload);
  reload();

  const backendFor = (serviceName: string): ResolvedBackend | undefined =>
    backends.get(serviceName) ?? backends.get(lastSegment(serviceName));

  const answerLocally = (
    res: ServerResponse,
    status: number,
    body: string,
    extra?: Record<string, string>,
  ): void => {
    countStatus(localCounts, status);
    plain(res, status, body, extra);
  };

  const describeRule = (s: RuleSelection): string =>
    `route ${s.route.name ?? '(unnamed)'} rule ${s.ruleIndex}`;

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const routedAt = Date.now();
    const view = requestView(req);
    const table = tables.pick();
    const selection = select(table.routes, view);
    if (selection.kind === 'noRoute') {
      const known = table.routes.flatMap((r) => r.hostnames ?? []);
      answerLocally(
        res,
        404,
        `mesh: no route for host "${selection.host}" (hostnames served: ${known.length === 0 ? 'none' : known.join(', ')})`,
      );
      return;
    }
    if (selection.kind === 'noRule') {
      answerLocally(
        res,
        404,
        `mesh: no rule of route ${selection.route.name ?? '(unnamed)'} matches ${req.method ?? 'GET'} ${view.path}`,
      );
      return;
    }
    const action: RouteAction = selection.rule.action ?? {};
    if (action.redirect) {
      const answer = redirectFor(view, selection.match, action.redirect);
      answerLocally(res, answer.status, `redirect to ${answer.location}`, { location: answer.location });
      return;
    }
    if (action.directResponse) {
      const direct = action.directResponse;
      const status = typeof direct.status === 'number' ? direct.status : 200;
      const body =
        typeof direct.bytesBody === 'string'
          ? Buffer.from(direct.bytesBody, 'base64')
          : Buffer.from(direct.stringBody ?? '');
      countStatus(localCounts, status);
      res.writeHead(status, { 'content-length': body.length, 'content-type': 'text/plain; charset=utf-8' });
      res.end(body);
      return;
    }
    const fault = action.faultInjectionPolicy ? decideFault(action.faultInjectionPolicy, random) : null;
    if (fault !== null && fault.abortStatus !== null) {
      const status = fault.abortStatus;
      const respond = (): void => {
        if (!res.destroyed) answerLocally(res, status, 'fault filter abort');
      };
      if (fault.delayMs > 0) setTimeout(respond, fault.delayMs);
      else respond();
      return;
    }
    const destination = chooseDestination(action.destinations ?? [], random);
    if (destination === null) {
      answerLocally(res, 503, `mesh: ${describeRule(selection)} has no destinations`);
      return;
    }
    const serviceName = destination.serviceName ?? '';
    const backend = backendFor(serviceName);
    if (backend === undefined) {
      const configured = [...new Set([...backends.values()].map((b) => b.key))].join(', ') || 'none';
      answerLocally(
        res,
        503,
        `mesh: no local backend configured for backend service "${serviceName}" (${describeRule(selection)}; configured: ${configured})`,
      );
      return;
    }
    const go = (): void =>
      forward(req, res, view, selection, action, destination, backend, started, routedAt);
    if (fault !== null && fault.delayMs > 0) {
      setTimeout(() => {
        if (!res.destroyed) guarded(res, go);
      }, fault.delayMs);
    } else {
      go();
    }
  }

  function forward(
    req: IncomingMessage,
    res: ServerResponse,
    view: RequestView,
    selection: RuleSelection,
    action: RouteAction,
    destination: RouteDestination,
    backend: ResolvedBackend,
    started: number,
    routedAt: number,
  ): void {
    const headers = copyHeaders(req.headersDistinct, req.headers.connection);
    const remote = req.socket.remoteAddress;
    if (remote !== undefined) headers['x-forwarded-for'] = [...(headers['x-forwarded-for'] ?? []), remote];
    headers['x-forwarded-proto'] ??= ['http'];
    if (view.host !== '') headers['host'] = [view.host];
    const hostRewrite = action.urlRewrite?.hostRewrite;
    if (typeof hostRewrite === 'string' && hostRewrite !== '') headers['host'] = [hostRewrite];
    applyHeaderModifier(headers, action.requestHeaderModifier);
    applyHeaderModifier(headers, destination.requestHeaderModifier);
    const path = rewritePath(view.path, selection.match, action.urlRewrite?.pathPrefixRewrite);
    const target = `${backend.basePath}${path}${view.query === '' ? '' : `?${view.query}`}`;

    let status: number | null = null;
    let recorded = false;
    let timer: NodeJS.Timeout | undefined;
    const record = (code: number): void => {
      if (recorded) return;
      recorded = true;
      if (timer !== undefined) clearTimeout(timer);
      let counts = backendCounts.get(backend.key);
      if (counts === undefined) {
        counts = emptyCounts();
        backendCounts.set(backend.key, counts);
      }
      countStatus(counts, code);
      const at = Date.now();
      if (keepServed > 0) {
        served.push(servedRecord(at, routedAt, selection, action, backend.key, code));
        if (served.length > keepServed) served.splice(0, served.length - keepServed);
      }
      try {
        options.recorder.record({
          service: backend.service,
          responseCode: code,
          latencyMs: performance.now() - started,
          at,
        });
      } catch (error) {
        log(`recorder failed: ${(error as Error).message}`);
      }
    };

    const upstream = httpRequest({
      agent,
      hostname: backend.hostname,
      port: backend.port,
      method: req.method ?? 'GET',
      path: target,
      headers: outgoing(headers),
    });

    const timeoutMs = routeTimeoutMs(action, defaultTimeoutMs);
    if (timeoutMs > 0) {
      const arm = (): void => {
        if (recorded) return;
        timer = setTimeout(() => {
          if (recorded) return;
          if (status === null && !res.headersSent) {
            upstream.destroy();
            plain(res, 504, 'upstream request timeout');
            record(504);
          } else {
            upstream.destroy();
            res.destroy();
            if (status !== null) record(status);
          }
        }, timeoutMs);
      };
      if (req.readableEnded) arm();
      else req.once('end', arm);
    }

    upstream.on('response', (upRes) => {
      const code = upRes.statusCode ?? 502;
      status = code;
      const out = copyHeaders(upRes.headersDistinct, upRes.headers.connection);
      applyHeaderModifier(out, action.responseHeaderModifier);
      applyHeaderModifier(out, destination.responseHeaderModifier);
      out[BACKEND_HEADER] = [backend.key];
      try {
        res.writeHead(code, outgoing(out));
      } catch (error) {
        log(`response from ${backend.key} not forwarded: ${(error as Error).message}`);
        upRes.resume();
        status = 502;
        plain(res, 502, `mesh: response headers could not be forwarded: ${(error as Error).message}`);
        return;
      }
      upRes.pipe(res);
      upRes.once('error', () => res.destroy());
    });
    upstream.on('error', (error) => {
      if (recorded) return;
      if (!res.headersSent && !res.destroyed) {
        plain(
          res,
          503,
          `upstream connect error or disconnect/reset before headers. reset reason: ${(error as NodeJS.ErrnoException).code ?? error.message}`,
        );
        record(503);
      } else {
        res.destroy();
        if (status !== null) record(status);
      }
    });
    res.once('finish', () => {
      if (status !== null) record(status);
    });
    res.once('close', () => {
      if (res.writableFinished || recorded) return;
      upstream.destroy();
      if (status !== null) record(status);
      else {
        abandoned += 1;
        if (timer !== undefined) clearTimeout(timer);
      }
    });
    req.once('error', () => upstream.destroy());
    req.pipe(upstream);
  }

  /** Runs a step of a request; a throw (e.g. a header value Node refuses to send) answers 500. */
  const guarded = (res: ServerResponse, step: () => void): void => {
    try {
      step();
    } catch (error) {
      log(`request failed: ${(error as Error).message}`);
      if (!res.headersSent) answerLocally(res, 500, `mesh: ${(error as Error).message}`);
      else res.destroy();
    }
  };

  const server = createServer((req, res) => guarded(res, () => handle(req, res)));
  const { port, url } = await listen(server, options.port, options.host);

  return {
    url,
    port,
    stats: () => ({
      backends: Object.fromEntries([...backendCounts].map(([key, counts]) => [key, { ...counts }])),
      local: { ...localCounts },
      abandoned,
      routeReloads,
    }),
    notes: () => tables.latest().notes,
    served: () => [...served],
    propagated: () => tables.settled(),
    close: async () => {
      unsubscribe();
      tables.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      agent.destroy();
    },
  };
}
