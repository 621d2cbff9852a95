/**
 * Demo TCP and TLS backends for TCPRoutes and TLSRoutes: on each connection they greet with
 * `hello from NAME` (TLS: plus the SNI and ALPN protocol the handshake agreed), then echo what
 * they receive. `failRatio` (0–1, changeable at runtime) makes a connection fail at once with
 * a TCP reset, for rollouts that must see a bad canary. The TLS backend uses the fixed local
 * certificate (demo-tls-cert.ts); the mesh passes its TLS through untouched.
 */
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { listen } from '../net.ts';
import { DEMO_TLS_CERT, DEMO_TLS_KEY } from './demo-tls-cert.ts';
import type { RandomSource } from './weights.ts';

export interface StreamDemoOptions {
  readonly port?: number;
  readonly host?: string;
  /** Name in the greeting; default "demo". */
  readonly name?: string;
  /** Share of connections reset at once, 0–1; default 0. */
  readonly failRatio?: number;
  /** TLS only: ALPN protocols the server accepts; default h2 and http/1.1. */
  readonly alpn?: readonly string[];
  readonly random?: RandomSource;
}

export interface StreamDemoBackend {
  /** `host:port` (the MeshBackend `tcp` or `tls` address). */
  readonly address: string;
  readonly port: number;
  readonly name: string;
  setFailRatio(ratio: number): void;
  /** Connections accepted, and those reset on purpose. */
  stats(): { readonly connections: number; readonly reset: number };
  close(): Promise<void>;
}

function checkRatio(ratio: number): number {
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) throw new Error('failRatio must be between 0 and 1');
  return ratio;
}

async function serve(
  server: Server,
  options: StreamDemoOptions,
  greet: (socket: Socket) => string,
  event: 'connection' | 'secureConnection',
): Promise<StreamDemoBackend> {
  const name = options.name ?? 'demo';
  const random = options.random ?? Math.random;
  let failRatio = checkRatio(options.failRatio ?? 0);
  let connections = 0;
  let reset = 0;
  const open = new Set<Socket>();
  // A failure is decided on the raw TCP connection (before any TLS handshake): only a TCP handle
  // can be reset (a TLS socket's cannot), and a reset is what the mesh sees of a failing backend.
  server.on('connection', (raw: Socket) => {
    connections += 1;
    open.add(raw);
    raw.on('close', () => open.delete(raw));
    raw.on('error', () => {});
    if (failRatio > 0 && random() < failRatio) {
      reset += 1;
      raw.resetAndDestroy();
    }
  });
  server.on(event, (socket: Socket) => {
    socket.on('error', () => {});
    if (socket.destroyed) return;
    socket.write(`${greet(socket)}\n`);
    socket.pipe(socket);
  });
  const host = options.host ?? '127.0.0.1';
  const { port } = await listen(server, options.port, host);
  return {
    address: `${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    name,
    setFailRatio: (ratio) => {
      failRatio = checkRatio(ratio);
    },
    stats: () => ({ connections, reset }),
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A TCP echo server greeting with `hello from NAME`. */
export function startTcpDemoBackend(options: StreamDemoOptions = {}): Promise<StreamDemoBackend> {
  const name = options.name ?? 'demo';
  return serve(createTcpServer(), options, () => `hello from ${name}`, 'connection');
}

/** A TLS echo server greeting with `hello from NAME sni=… alpn=…`. */
export function startTlsDemoBackend(options: StreamDemoOptions = {}): Promise<StreamDemoBackend> {
  const name = options.name ?? 'demo';
  const server = createTlsServer({
    key: DEMO_TLS_KEY,
    cert: DEMO_TLS_CERT,
    ALPNProtocols: [...(options.alpn ?? ['h2', 'http/1.1'])],
  });
  server.on('tlsClientError', () => {});
  const greet = (socket: Socket): string => {
    const tls = socket as TLSSocket;
    const sni = (tls as TLSSocket & { servername?: string | false }).servername || '-';
    return `hello from ${name} sni=${sni} alpn=${tls.alpnProtocol || '-'}`;
  };
  return serve(server, options, greet, 'secureConnection');
}
