/**
 * The TCP and TLS listeners of the local mesh data plane. Each connection picks its route rule
 * when it starts and a destination by weight (per CONNECTION, as the mesh balances TCPRoute
 * and TLSRoute traffic), connects to that backend service's local `tcp` / `tls` address and
 * pipes bytes both ways until either side closes. Route changes reach the listener's clients
 * after the propagation delay (route-follower.ts): an open connection keeps its backend.
 *
 * TCP (TcpRoute): the listener stands for one virtual service `address:port` (options
 * `virtualAddress`, default 10.0.0.10, and `virtualPort`, default the listener's port) that
 * rules match by CIDR and port (stream-match.ts) — locally the client dials the listener, not
 * the service's VIP. `originalDestination` (forward to the address the client dialled) cannot
 * be honoured locally — there is no original destination but the listener itself — so such a
 * rule refuses the connection (reset; counted as `refused` and logged once).
 * TLS (TlsRoute): passthrough, as in the mesh: the listener reads the ClientHello's SNI and
 * ALPN without terminating TLS, selects the rule, and forwards the handshake bytes unchanged.
 *
 * The mesh answers itself (counted as `refused`, never recorded) by resetting a connection
 * that no rule matches, whose rule has no destinations or whose backend service has no local
 * backend, and (TLS) one that does not start with a ClientHello. Recorded per forwarded
 * connection (ConnectionRecorder, log-based-metrics.ts): backend, outcome (`ok` closed
 * normally; `failed` the backend could not be reached; `reset` the backend's side broke) and
 * duration. `idleTimeout` is not applied.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ConnectionOutcome, ConnectionRecorder } from '../monitoring/log-based-metrics.ts';
import { listen } from '../net.ts';
import type { RouteFeed, TcpRoute, TlsRoute } from '../network-services/route-feed.ts';
import type { DelaySpec } from '../timing.ts';
import { type StreamBackend, StreamBackends } from './backend-addresses.ts';
import { parseClientHello } from './client-hello.ts';
import type { MeshBackend } from './proxy.ts';
import { followRoutes, type RouteFollower } from './route-follower.ts';
import { selectTcp, selectTls } from './stream-match.ts';
import { chooseDestination, type RandomSource, type Weighted } from './weights.ts';

export interface StreamMeshOptions {
  readonly port?: number;
  readonly host?: string;
  readonly feed: RouteFeed;
  /** Backend services → local backends; their `tcp` (TCP listener) or `tls` (TLS listener) address. */
  readonly backends: Readonly<Record<string, string | MeshBackend>>;
  /** Where forwarded connections are recorded; default: nowhere. */
  readonly connections?: ConnectionRecorder;
  readonly random?: RandomSource;
  readonly mesh?: string;
  readonly log?: (line: string) => void;
  readonly propagationMs?: DelaySpec;
  readonly clients?: number;
  readonly seed?: number;
}

export interface TcpMeshOptions extends StreamMeshOptions {
  /** The service address the routes' `address` CIDRs are matched against; default 10.0.0.10. */
  readonly virtualAddress?: string;
  /** The service port the routes' `port` is matched against; default the listener's port. */
  readonly virtualPort?: number;
}

export interface TlsMeshOptions extends StreamMeshOptions {
  /** A client that sends no complete ClientHello within this long is reset; default 5 000 ms. */
  readonly helloTimeoutMs?: number;
}

export type OutcomeCounts = { total: number } & Record<ConnectionOutcome, number>;

export interface StreamMeshStats {
  /** Forwarded connections per backend service, by outcome (those still open are not counted). */
  readonly backends: Readonly<Record<string, OutcomeCounts>>;
  /** Connections the mesh reset itself (no rule, no backend, originalDestination, not TLS). */
  readonly refused: number;
  readonly routeReloads: number;
}

export interface StreamMesh {
  /** `host:port` clients connect to. */
  readonly address: string;
  readonly port: number;
  stats(): StreamMeshStats;
  propagated(): boolean;
  close(): Promise<void>;
}

interface Plumbing {
  readonly kind: 'tcp' | 'tls';
  readonly backends: StreamBackends;
  readonly random: RandomSource;
  readonly log: (line: string) => void;
  readonly counts: Map<string, OutcomeCounts>;
  readonly recorder: ConnectionRecorder | undefined;
  /** Notes already logged (each reason is logged once). */
  readonly logged: Set<string>;
  refused: number;
}

function refuse(p: Plumbing, socket: Socket, note: string): void {
  p.refused += 1;
  if (!p.logged.has(note)) {
    p.logged.add(note);
    p.log(note);
  }
  socket.resetAndDestroy();
}

function recordOutcome(
  p: Plumbing,
  backend: StreamBackend,
  outcome: ConnectionOutcome,
  started: number,
): void {
  let counts = p.counts.get(backend.key);
  if (counts === undefined) {
    counts = { total: 0, ok: 0, reset: 0, failed: 0 };
    p.counts.set(backend.key, counts);
  }
  counts.total += 1;
  counts[outcome] += 1;
  try {
    p.recorder?.recordConnection({
      kind: p.kind,
      backend: backend.key,
      outcome,
      durationMs: performance.now() - started,
    });
  } catch (error) {
    p.log(`connection recorder failed: ${(error as Error).message}`);
  }
}

/** Connects to the backend and pipes both ways; `first` is what the client already sent. */
function pipeTo(p: Plumbing, client: Socket, backend: StreamBackend, first: Buffer | null): void {
  const started = performance.now();
  let connected = false;
  let outcome: ConnectionOutcome | null = null;
  const upstream = connect({ host: backend.host, port: backend.port });
  const end = (result: ConnectionOutcome): void => {
    if (outcome !== null) return;
    outcome = result;
    recordOutcome(p, backend, result, started);
  };
  upstream.on('connect', () => {
    connected = true;
    if (first !== null && first.length > 0) upstream.write(first);
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  });
  upstream.on('error', (error: NodeJS.ErrnoException) => {
    // A backend that accepted and then reset (even before 'connect' was seen) broke the connection.
    end(connected || error.code === 'ECONNRESET' || error.code === 'EPIPE' ? 'reset' : 'failed');
    if (!client.destroyed) client.resetAndDestroy();
  });
  upstream.on('close', () => {
    end('ok');
    client.destroy();
  });
  client.on('error', () => upstream.destroy());
  client.on('close', () => upstream.destroy());
}

/** Picks the destination of a rule's action and forwards; resets when there is none. */
function route(
  p: Plumbing,
  client: Socket,
  destinations: readonly (Weighted & { serviceName?: string | null })[],
  what: string,
  first: Buffer | null,
): void {
  const destination = chooseDestination(destinations, p.random);
  if (destination === null) {
    refuse(p, client, `mesh: ${what} has no destinations`);
    return;
  }
  const backend = p.backends.find(destination.serviceName ?? '');
  if (backend === undefined) {
    refuse(
      p,
      client,
      `mesh: no local ${p.kind} backend for ${destination.serviceName ?? ''} (configured: ${p.backends.names()})`,
    );
    return;
  }
  pipeTo(p, client, backend, first);
}

interface Listener<R> {
  readonly plumbing: Plumbing;
  readonly routes: RouteFollower<R>;
  readonly server: Server;
}

function setUp<R extends { readonly meshes?: string[] | null }>(
  options: StreamMeshOptions,
  kind: 'tcp' | 'tls',
  read: (feed: RouteFeed) => readonly R[],
): Listener<R> {
  const log = options.log ?? (() => {});
  const plumbing: Plumbing = {
    kind,
    backends: new StreamBackends(options.backends, kind),
    random: options.random ?? Math.random,
    log,
    counts: new Map(),
    recorder: options.connections,
    logged: new Set(),
    refused: 0,
  };
  const routes = followRoutes<R>({
    feed: options.feed,
    read,
    ...(options.mesh === undefined ? {} : { mesh: options.mesh }),
    ...(options.propagationMs === undefined ? {} : { propagationMs: options.propagationMs }),
    ...(options.clients === undefined ? {} : { clients: options.clients }),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    seedOffset: kind === 'tcp' ? 211 : 307,
    log,
  });
  return { plumbing, routes, server: createServer({ pauseOnConnect: true }) };
}

async function start<R>(listener: Listener<R>, options: StreamMeshOptions): Promise<StreamMesh> {
  const { server, plumbing, routes } = listener;
  const open = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });
  const host = options.host ?? '127.0.0.1';
  const { port } = await listen(server, options.port, host);
  return {
    address: `${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    stats: () => ({
      backends: Object.fromEntries([...plumbing.counts].map(([k, v]) => [k, { ...v }])),
      refused: plumbing.refused,
      routeReloads: routes.reloads(),
    }),
    propagated: () => routes.settled(),
    close: async () => {
      routes.close();
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function startTcpMesh(options: TcpMeshOptions): Promise<StreamMesh> {
  const listener = setUp<TcpRoute>(options, 'tcp', (feed) => feed.tcpRoutes());
  const { plumbing: p, routes } = listener;
  const virtualAddress = options.virtualAddress ?? '10.0.0.10';
  let virtualPort = options.virtualPort ?? 0;
  listener.server.on('connection', (client: Socket) => {
    client.on('error', () => {});
    const target = { address: virtualAddress, port: virtualPort };
    const selection = selectTcp(routes.pick(), target);
    if (selection === null) {
      refuse(p, client, `mesh: no TCPRoute rule matches ${virtualAddress}:${virtualPort}`);
      return;
    }
    const what = `${selection.route.name ?? '(unnamed route)'} rule ${selection.ruleIndex}`;
    const action = selection.rule.action ?? {};
    if (action.originalDestination === true) {
      refuse(
        p,
        client,
        `mesh: ${what}: originalDestination is not supported by the local mesh; connection refused`,
      );
      return;
    }
    route(p, client, action.destinations ?? [], what, null);
  });
  const mesh = await start(listener, options);
  if (options.virtualPort === undefined) virtualPort = mesh.port;
  return mesh;
}

/** Reads the ClientHello, then routes by its SNI and ALPN. */
function onTlsConnection(
  p: Plumbing,
  routes: RouteFollower<TlsRoute>,
  client: Socket,
  helloTimeoutMs: number,
): void {
  client.on('error', () => {});
  const chunks: Buffer[] = [];
  const timer = setTimeout(
    () => refuse(p, client, 'mesh: no complete TLS ClientHello in time'),
    helloTimeoutMs,
  );
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
    const first = Buffer.concat(chunks);
    const hello = parseClientHello(first);
    if (hello.kind === 'incomplete') return;
    clearTimeout(timer);
    client.off('data', onData);
    client.pause();
    if (hello.kind === 'notTls') {
      refuse(p, client, `mesh: TLS listener: ${hello.reason}`);
      return;
    }
    const selection = selectTls(routes.pick(), hello);
    if (selection === null) {
      refuse(p, client, `mesh: no TLSRoute rule matches sni "${hello.sni}" alpn [${hello.alpn.join(', ')}]`);
      return;
    }
    const what = `${selection.route.name ?? '(unnamed route)'} rule ${selection.ruleIndex}`;
    route(p, client, selection.rule.action?.destinations ?? [], what, first);
  };
  client.on('data', onData);
  client.on('close', () => clearTimeout(timer));
  client.resume();
}

export async function startTlsMesh(options: TlsMeshOptions): Promise<StreamMesh> {
  const listener = setUp<TlsRoute>(options, 'tls', (feed) => feed.tlsRoutes());
  const timeout = options.helloTimeoutMs ?? 5000;
  listener.server.on('connection', (client: Socket) =>
    onTlsConnection(listener.plumbing, listener.routes, client, timeout),
  );
  return start(listener, options);
}
