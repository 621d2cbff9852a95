/**
 * Load through the local mesh for the route kinds without HTTP requests: gRPC calls
 * (`demo.Checkout/Quote` or `Ping` through the mesh's gRPC listener, with the route's hostname
 * as `:authority` and optional metadata) and TCP or TLS connections (each connection reads the
 * backend's greeting line `hello from NAME`, then closes). Outcomes are counted per backend
 * service — the mesh's `x-mesh-backend` for gRPC, the greeting for TCP/TLS — so a test can
 * measure the split.
 */
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { credentials, Metadata, makeGenericClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { grpcCodeName } from '../monitoring/log-based-metrics.ts';
import { parseAddress } from './backend-addresses.ts';
import { checkoutService } from './demo-grpc-backend.ts';
import { type PaceOptions, paced } from './paced.ts';
import { BACKEND_HEADER } from './proxy.ts';

export interface GrpcLoadOptions extends PaceOptions {
  /** The mesh's gRPC listener, `host:port`. */
  readonly address: string;
  /** `:authority` of every call (the GrpcRoute's hostname). */
  readonly authority: string;
  /** Method of demo.Checkout; default Quote. */
  readonly method?: 'Quote' | 'Ping';
  readonly metadata?: Readonly<Record<string, string>>;
  /** Deadline of each call; default 10 000 ms. */
  readonly timeoutMs?: number;
}

/** Outcomes by backend service, then by grpc-status name (gRPC) or outcome (connections). */
export type ByBackend = Record<string, Record<string, number>>;

export interface StreamLoadStats {
  readonly attempted: number;
  readonly skipped: number;
  readonly byBackend: ByBackend;
  /** Outcomes without a backend (the mesh answered itself, or the connection failed). */
  readonly unrouted: Record<string, number>;
  readonly elapsedMs: number;
}

function bump(into: Record<string, number>, key: string): void {
  into[key] = (into[key] ?? 0) + 1;
}

function tally(
  byBackend: ByBackend,
  unrouted: Record<string, number>,
  backend: string | undefined,
  outcome: string,
): void {
  if (backend === undefined || backend === '') {
    bump(unrouted, outcome);
    return;
  }
  byBackend[backend] ??= {};
  bump(byBackend[backend], outcome);
}

function backendOf(metadata: Metadata | undefined): string | undefined {
  const value = metadata?.get(BACKEND_HEADER)[0];
  return value === undefined ? undefined : String(value);
}

export async function runGrpcLoad(options: GrpcLoadOptions): Promise<StreamLoadStats> {
  const Client = makeGenericClientConstructor(checkoutService, 'Checkout');
  const client = new Client(options.address, credentials.createInsecure(), {
    'grpc.default_authority': options.authority,
  });
  const byBackend: ByBackend = {};
  const unrouted: Record<string, number> = {};
  const method = options.method ?? 'Quote';
  const call = (): Promise<void> =>
    new Promise((resolve) => {
      const metadata = new Metadata();
      for (const [k, v] of Object.entries(options.metadata ?? {})) metadata.set(k, v);
      let headers: Metadata | undefined;
      const deadline = Date.now() + (options.timeoutMs ?? 10_000);
      const unaryCall = client.makeUnaryRequest(
        `/demo.Checkout/${method}`,
        (v: unknown) => Buffer.from(JSON.stringify(v)),
        (b: Buffer) => JSON.parse(b.toString('utf8')) as unknown,
        { items: 1 },
        metadata,
        { deadline },
        (error: ServiceError | null) => {
          const backend = backendOf(headers) ?? backendOf(error?.metadata);
          tally(byBackend, unrouted, backend, grpcCodeName(error === null ? 0 : error.code));
          resolve();
        },
      );
      unaryCall.on('metadata', (m: Metadata) => {
        headers = m;
      });
    });
  try {
    const result = await paced(options, call);
    return {
      attempted: result.started,
      skipped: result.skipped,
      byBackend,
      unrouted,
      elapsedMs: result.elapsedMs,
    };
  } finally {
    client.close();
  }
}

export interface ConnectionLoadOptions extends PaceOptions {
  /** The mesh's TCP or TLS listener, `host:port`. */
  readonly address: string;
  /** TLS: server name (SNI) and ALPN protocols offered; TCP when unset. */
  readonly tls?: { readonly servername: string; readonly alpn?: readonly string[] };
  /** Give up on a connection after this long; default 5 000 ms. */
  readonly timeoutMs?: number;
}

/** One connection: its greeting's backend name, or the failure. */
function oneConnection(options: ConnectionLoadOptions): Promise<{ backend?: string; outcome: string }> {
  const { host, port } = parseAddress(options.address, 'connection load');
  return new Promise((resolve) => {
    const socket = options.tls
      ? tlsConnect({
          host,
          port,
          servername: options.tls.servername,
          ALPNProtocols: [...(options.tls.alpn ?? [])],
          rejectUnauthorized: false,
        })
      : netConnect({ host, port });
    let text = '';
    const done = (result: { backend?: string; outcome: string }): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(options.timeoutMs ?? 5000, () => done({ outcome: 'timeout' }));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const m = /^hello from (\S+)/.exec(text);
      if (m !== null) done({ backend: m[1] ?? '', outcome: 'ok' });
    });
    socket.on('error', (error: NodeJS.ErrnoException) => done({ outcome: error.code ?? 'error' }));
    socket.on('close', () => done({ outcome: 'closed' }));
  });
}

export async function runConnectionLoad(options: ConnectionLoadOptions): Promise<StreamLoadStats> {
  const byBackend: ByBackend = {};
  const unrouted: Record<string, number> = {};
  const result = await paced(options, async () => {
    const { backend, outcome } = await oneConnection(options);
    tally(byBackend, unrouted, backend, outcome);
  });
  return {
    attempted: result.started,
    skipped: result.skipped,
    byBackend,
    unrouted,
    elapsedMs: result.elapsedMs,
  };
}
