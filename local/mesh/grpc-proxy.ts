/**
 * The gRPC listener of the local mesh data plane: HTTP/2 cleartext (prior knowledge, as gRPC
 * clients speak to a sidecar) applying GrpcRoutes the way Envoy applies them — route by
 * `:authority`, first rule whose method and header matches hold (grpc-match.ts), a weighted
 * destination (weights.ts) — and forwarding the stream to the chosen backend service's local
 * gRPC server (its `grpc` address): request headers and messages, then response headers,
 * messages and trailers (grpc-status, grpc-message) unchanged, plus `x-mesh-backend` in the
 * response headers (or the trailers-only response) naming the backend service.
 *
 * Answers of the mesh itself, as Envoy's gRPC local replies (HTTP 200, trailers-only, counted
 * under `local`, never recorded): no route for the authority or no matching rule →
 * UNIMPLEMENTED (Envoy's 404); a rule without destinations or a backend service without a
 * local gRPC backend → UNAVAILABLE (503). A backend that cannot be reached → UNAVAILABLE
 * "upstream connect error", recorded as 503 as the HTTP proxy records it.
 *
 * Recorded per call (RequestRecorder, as Cloud Run records a gRPC request): the HTTP status
 * of the backend's response — 200 for a call that failed with a grpc-status other than OK —
 * and the latency until the stream ended. Route changes reach the listener's clients after the
 * propagation delay (route-follower.ts): a call in progress keeps its backend.
 * Rule action fields other than `destinations` (timeout, retryPolicy, faultInjectionPolicy,
 * statefulSessionAffinity, idleTimeout) are not applied; they are reported once in the log.
 */
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect,
  constants,
  createServer,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import { performance } from 'node:perf_hooks';
import { grpcCodeName } from '../monitoring/log-based-metrics.ts';
import type { RequestRecorder } from '../monitoring/request-recorder.ts';
import { listen } from '../net.ts';
import type { GrpcRoute, RouteFeed } from '../network-services/route-feed.ts';
import type { DelaySpec } from '../timing.ts';
import { type StreamBackend, StreamBackends } from './backend-addresses.ts';
import { selectGrpc } from './grpc-match.ts';
import { BACKEND_HEADER, type MeshBackend } from './proxy.ts';
import { followRoutes } from './route-follower.ts';
import { chooseDestination, type RandomSource } from './weights.ts';

export interface GrpcMeshOptions {
  readonly port?: number;
  readonly host?: string;
  readonly feed: RouteFeed;
  /** Backend services → local backends; those with a `grpc` address serve GrpcRoutes. */
  readonly backends: Readonly<Record<string, string | MeshBackend>>;
  readonly recorder: RequestRecorder;
  readonly random?: RandomSource;
  readonly mesh?: string;
  readonly log?: (line: string) => void;
  readonly propagationMs?: DelaySpec;
  readonly clients?: number;
  readonly seed?: number;
}

/** Calls by grpc-status name ("OK", "UNAVAILABLE", …) and in total. */
export type GrpcCodeCounts = { total: number } & Record<string, number>;

export interface GrpcMeshStats {
  /** Calls per backend service that answered, by grpc-status. */
  readonly backends: Readonly<Record<string, GrpcCodeCounts>>;
  /** Calls the mesh answered itself (no route, no rule, no backend). */
  readonly local: GrpcCodeCounts;
  readonly routeReloads: number;
}

export interface GrpcMesh {
  /** `host:port` for gRPC clients (insecure channel credentials). */
  readonly address: string;
  readonly port: number;
  stats(): GrpcMeshStats;
  propagated(): boolean;
  close(): Promise<void>;
}

const UNIMPLEMENTED = 12;
const UNAVAILABLE = 14;
const IGNORED = [
  'timeout',
  'retryPolicy',
  'faultInjectionPolicy',
  'statefulSessionAffinity',
  'idleTimeout',
] as const;

function count(counts: GrpcCodeCounts, code: number): void {
  const name = grpcCodeName(code);
  counts.total += 1;
  counts[name] = (counts[name] ?? 0) + 1;
}

function ignoredNotes(routes: readonly GrpcRoute[]): string[] {
  return routes.flatMap((route) =>
    (route.rules ?? []).flatMap((rule, index) => {
      const action = rule.action;
      const ignored = action ? IGNORED.filter((f) => action[f] != null) : [];
      return ignored.length === 0
        ? []
        : [
            `${route.name ?? '(unnamed route)'} rule ${index}: ignored by the local gRPC mesh: ${ignored.join(', ')}`,
          ];
    }),
  );
}

/** Request headers for the backend: the call's own, minus HTTP/2 pseudo-headers the client sets again. */
function forwardedHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (
      value === undefined ||
      (name.startsWith(':') && name !== ':path' && name !== ':method' && name !== ':authority')
    )
      continue;
    out[name] = value;
  }
  return out;
}

/** Response headers or trailers without pseudo-headers other than :status. */
function responseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || (name.startsWith(':') && name !== ':status')) continue;
    out[name] = value;
  }
  return out;
}

function grpcStatusOf(headers: IncomingHttpHeaders | undefined): number | null {
  const raw = headers?.['grpc-status'];
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (text === undefined) return null;
  const n = Number(text);
  return Number.isInteger(n) ? n : null;
}

/** Envoy's gRPC local reply: HTTP 200, trailers-only, grpc-status and grpc-message. */
function localReply(stream: ServerHttp2Stream, code: number, message: string): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond(
    {
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': String(code),
      'grpc-message': encodeURIComponent(message),
    },
    { endStream: true },
  );
  stream.resume();
}

/** One HTTP/2 connection per backend, reopened when it closes. */
class Sessions {
  readonly #open = new Map<string, ClientHttp2Session>();

  get(backend: StreamBackend): ClientHttp2Session {
    const id = `${backend.host}:${backend.port}`;
    const existing = this.#open.get(id);
    if (existing !== undefined && !existing.closed && !existing.destroyed) return existing;
    const host = backend.host.includes(':') ? `[${backend.host}]` : backend.host;
    const session = connect(`http://${host}:${backend.port}`);
    session.on('error', () => this.#open.delete(id));
    session.on('close', () => {
      if (this.#open.get(id) === session) this.#open.delete(id);
    });
    this.#open.set(id, session);
    return session;
  }

  close(): void {
    for (const session of this.#open.values()) session.destroy();
    this.#open.clear();
  }
}

interface Call {
  readonly stream: ServerHttp2Stream;
  readonly headers: IncomingHttpHeaders;
  readonly backend: StreamBackend;
  readonly started: number;
}

interface CallEnd {
  /** HTTP status the backend answered with (503 when it could not be reached). */
  readonly httpStatus: number;
  /** grpc-status the client got. */
  readonly grpcStatus: number;
}

/** What forward() learns of the backend's answer. */
interface Answer {
  httpStatus: number | null;
  trailers: IncomingHttpHeaders | undefined;
}

/** Relays the backend's response headers, messages and trailers to the caller. */
function relayResponse(
  upstream: ClientHttp2Stream,
  stream: ServerHttp2Stream,
  backend: StreamBackend,
  state: Answer,
  finish: (end: CallEnd) => void,
): void {
  upstream.on('response', (headers, flags) => {
    state.httpStatus = Number(headers[':status'] ?? 502);
    const out = { ...responseHeaders(headers), [BACKEND_HEADER]: backend.key };
    if ((flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0) {
      stream.respond(out, { endStream: true });
      finish({ httpStatus: state.httpStatus, grpcStatus: grpcStatusOf(headers) ?? UNAVAILABLE });
      return;
    }
    stream.respond(out, { waitForTrailers: true });
    upstream.pipe(stream);
  });
  upstream.on('trailers', (headers) => {
    state.trailers = headers;
  });
  stream.on('wantTrailers', () => {
    const send = (): void => {
      const out = state.trailers
        ? responseHeaders(state.trailers)
        : { 'grpc-status': String(UNAVAILABLE), 'grpc-message': 'upstream reset' };
      if (!stream.destroyed) stream.sendTrailers(out);
      finish({
        httpStatus: state.httpStatus ?? 502,
        grpcStatus: grpcStatusOf(state.trailers) ?? UNAVAILABLE,
      });
    };
    if (state.trailers !== undefined || upstream.closed) send();
    else upstream.once('close', send);
  });
}

/** Forwards one call to its backend; `done` runs once with what the call ended with. */
function forward(call: Call, sessions: Sessions, done: (end: CallEnd) => void): void {
  const { stream, backend } = call;
  const state: Answer = { httpStatus: null, trailers: undefined };
  let finished = false;
  const finish = (end: CallEnd): void => {
    if (finished) return;
    finished = true;
    done(end);
  };
  let upstream: ClientHttp2Stream;
  try {
    upstream = sessions.get(backend).request(forwardedHeaders(call.headers));
  } catch (error) {
    localReply(stream, UNAVAILABLE, `upstream connect error: ${(error as Error).message}`);
    finish({ httpStatus: 503, grpcStatus: UNAVAILABLE });
    return;
  }
  relayResponse(upstream, stream, backend, state, finish);
  upstream.on('error', (error: NodeJS.ErrnoException) => {
    if (state.httpStatus === null) {
      localReply(
        stream,
        UNAVAILABLE,
        `upstream connect error or disconnect/reset before headers: ${error.code ?? error.message}`,
      );
      finish({ httpStatus: 503, grpcStatus: UNAVAILABLE });
    } else if (!stream.destroyed) stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  });
  upstream.on('close', () => {
    if (state.httpStatus === null && !finished) {
      localReply(stream, UNAVAILABLE, 'upstream closed the stream before headers');
      finish({ httpStatus: 503, grpcStatus: UNAVAILABLE });
    }
  });
  stream.on('close', () => {
    if (!upstream.closed) upstream.close(constants.NGHTTP2_CANCEL);
  });
  stream.pipe(upstream);
}

type Decision =
  | { readonly kind: 'forward'; readonly backend: StreamBackend }
  | { readonly kind: 'local'; readonly code: number; readonly message: string };

/** Where one call goes: a backend, or the mesh's own answer. */
function decide(
  routes: readonly GrpcRoute[],
  headers: IncomingHttpHeaders,
  random: RandomSource,
  backends: StreamBackends,
): Decision {
  const authority = String(headers[':authority'] ?? headers.host ?? '');
  const path = String(headers[':path'] ?? '');
  const selection = selectGrpc(routes, { authority, path, headers });
  if (selection.kind === 'noRoute') {
    return { kind: 'local', code: UNIMPLEMENTED, message: `mesh: no GRPCRoute for "${selection.host}"` };
  }
  if (selection.kind === 'noRule') {
    const route = selection.route.name ?? '(unnamed)';
    return { kind: 'local', code: UNIMPLEMENTED, message: `mesh: no rule of ${route} matches ${path}` };
  }
  const destination = chooseDestination(selection.rule.action?.destinations ?? [], random);
  if (destination === null) {
    return {
      kind: 'local',
      code: UNAVAILABLE,
      message: `mesh: rule ${selection.ruleIndex} has no destinations`,
    };
  }
  const backend = backends.find(destination.serviceName ?? '');
  if (backend === undefined) {
    const message = `mesh: no local gRPC backend for ${destination.serviceName ?? ''} (configured: ${backends.names()})`;
    return { kind: 'local', code: UNAVAILABLE, message };
  }
  return { kind: 'forward', backend };
}

export async function startGrpcMesh(options: GrpcMeshOptions): Promise<GrpcMesh> {
  const random = options.random ?? Math.random;
  const log = options.log ?? (() => {});
  const backends = new StreamBackends(options.backends, 'grpc');
  const sessions = new Sessions();
  const backendCounts = new Map<string, GrpcCodeCounts>();
  const local: GrpcCodeCounts = { total: 0 };
  const routes = followRoutes<GrpcRoute>({
    feed: options.feed,
    read: (feed) => feed.grpcRoutes(),
    ...(options.mesh === undefined ? {} : { mesh: options.mesh }),
    ...(options.propagationMs === undefined ? {} : { propagationMs: options.propagationMs }),
    ...(options.clients === undefined ? {} : { clients: options.clients }),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    seedOffset: 101,
    log,
    notes: ignoredNotes,
  });
  const answerLocally = (stream: ServerHttp2Stream, code: number, message: string): void => {
    count(local, code);
    localReply(stream, code, message);
  };
  const record = (backend: StreamBackend, started: number, end: CallEnd): void => {
    let counts = backendCounts.get(backend.key);
    if (counts === undefined) {
      counts = { total: 0 };
      backendCounts.set(backend.key, counts);
    }
    count(counts, end.grpcStatus);
    try {
      options.recorder.record({
        service: backend.service,
        responseCode: end.httpStatus,
        latencyMs: performance.now() - started,
      });
    } catch (error) {
      log(`recorder failed: ${(error as Error).message}`);
    }
  };
  const handle = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void => {
    const started = performance.now();
    const decision = decide(routes.pick(), headers, random, backends);
    if (decision.kind === 'local') {
      answerLocally(stream, decision.code, decision.message);
      return;
    }
    const { backend } = decision;
    forward({ stream, headers, backend, started }, sessions, (end) => record(backend, started, end));
  };
  const server = createServer();
  const serverSessions = new Set<ServerHttp2Session>();
  server.on('session', (session) => {
    serverSessions.add(session);
    session.on('close', () => serverSessions.delete(session));
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    try {
      handle(stream, headers);
    } catch (error) {
      log(`gRPC call failed: ${(error as Error).message}`);
      answerLocally(stream, 13, `mesh: ${(error as Error).message}`);
    }
  });
  const host = options.host ?? '127.0.0.1';
  const { port } = await listen(server, options.port, host);
  return {
    address: `${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    stats: () => ({
      backends: Object.fromEntries([...backendCounts].map(([k, v]) => [k, { ...v }])),
      local: { ...local },
      routeReloads: routes.reloads(),
    }),
    propagated: () => routes.settled(),
    close: async () => {
      routes.close();
      sessions.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const session of serverSessions) session.destroy();
      });
    },
  };
}
