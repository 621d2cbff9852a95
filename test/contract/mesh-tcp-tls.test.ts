/**
 * The local mesh's TCP and TLS listeners end to end: TcpRoutes and TlsRoutes from an
 * in-process RouteFeed, demo TCP/TLS backends that greet with their name. Weighted per
 * connection, address/port and SNI/ALPN matching, originalDestination refused, connection
 * outcomes recorded, and a route change that reaches new connections only after propagation
 * while an open connection keeps its backend.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type StreamDemoBackend,
  startTcpDemoBackend,
  startTlsDemoBackend,
} from '../../local/mesh/demo-stream-backend.ts';
import { MemoryRouteFeed } from '../../local/mesh/in-memory.ts';
import { runConnectionLoad } from '../../local/mesh/stream-load.ts';
import { type StreamMesh, startTcpMesh, startTlsMesh } from '../../local/mesh/stream-proxy.ts';
import { seededRandom } from '../../local/mesh/weights.ts';
import type { ConnectionRecorder, ConnectionSample } from '../../local/monitoring/log-based-metrics.ts';
import type { TcpRoute, TlsRoute } from '../../local/network-services/route-feed.ts';

const P = 'projects/demo/locations/global';
const MESH = `${P}/meshes/main`;
const V1 = `${P}/backendServices/db-v1`;
const V2 = `${P}/backendServices/db-v2`;

function expectBinomial(observed: number, n: number, p: number): void {
  const sd = Math.sqrt(n * p * (1 - p));
  expect(Math.abs(observed - n * p)).toBeLessThanOrEqual(4.5 * sd + 1);
}

function weighted(canary: number) {
  return [
    { serviceName: V1, weight: 100 - canary },
    { serviceName: V2, weight: canary },
  ].filter((d) => d.weight > 0);
}

function tcpRoute(rules: NonNullable<TcpRoute['rules']>): TcpRoute {
  return { name: `${P}/tcpRoutes/db`, meshes: [MESH], rules };
}

class ConnectionLog implements ConnectionRecorder {
  readonly samples: ConnectionSample[] = [];
  recordConnection(sample: ConnectionSample): void {
    this.samples.push(sample);
  }
}

/** Opens a connection, reads the greeting, keeps it open. */
function openConnection(
  address: string,
): Promise<{ greeting: string; echo: (text: string) => Promise<string>; close: () => void }> {
  const [host = '', port = ''] = address.split(':');
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: Number(port) });
    let buffered = '';
    let waiting: ((text: string) => void) | null = null;
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const line = buffered.indexOf('\n');
      if (line === -1) return;
      const text = buffered.slice(0, line);
      buffered = buffered.slice(line + 1);
      if (waiting !== null) {
        const w = waiting;
        waiting = null;
        w(text);
        return;
      }
      resolve({
        greeting: text,
        echo: (t) =>
          new Promise((r) => {
            waiting = r;
            socket.write(`${t}\n`);
          }),
        close: () => socket.destroy(),
      });
    });
  });
}

describe('TCP through the local mesh', () => {
  const feed = new MemoryRouteFeed();
  const log = new ConnectionLog();
  let v1: StreamDemoBackend;
  let v2: StreamDemoBackend;
  let mesh: StreamMesh;

  beforeAll(async () => {
    v1 = await startTcpDemoBackend({ name: 'db-v1' });
    v2 = await startTcpDemoBackend({ name: 'db-v2' });
    mesh = await startTcpMesh({
      feed,
      backends: { [V1]: { tcp: v1.address }, [V2]: { tcp: v2.address } },
      connections: log,
      random: seededRandom(5),
      virtualAddress: '10.0.0.10',
      virtualPort: 5432,
    });
  });
  afterAll(async () => {
    await mesh.close();
    await v1.close();
    await v2.close();
  });

  it('splits connections by weight within binomial bounds', async () => {
    feed.set([tcpRoute([{ action: { destinations: weighted(30) } }])]);
    const stats = await runConnectionLoad({ address: mesh.address, attempts: 400, concurrency: 16 });
    const a = stats.byBackend['db-v1']?.['ok'] ?? 0;
    const b = stats.byBackend['db-v2']?.['ok'] ?? 0;
    expect(a + b).toBe(400);
    expectBinomial(b, 400, 0.3);
  });

  it('matches the virtual address by CIDR and the port; refuses originalDestination', async () => {
    feed.set([
      tcpRoute([
        {
          matches: [{ address: '10.0.1.0/24', port: '5432' }],
          action: { destinations: [{ serviceName: V1 }] },
        },
        {
          matches: [{ address: '10.0.0.0/24', port: '5433' }],
          action: { destinations: [{ serviceName: V1 }] },
        },
        {
          matches: [{ address: '10.0.0.0/24', port: '5432' }],
          action: { destinations: [{ serviceName: V2 }] },
        },
      ]),
    ]);
    expect((await openConnection(mesh.address)).greeting).toBe('hello from db-v2');
    feed.set([
      tcpRoute([
        { matches: [{ address: '10.0.0.10', port: '5432' }], action: { originalDestination: true } },
      ]),
    ]);
    const refusedBefore = mesh.stats().refused;
    const stats = await runConnectionLoad({ address: mesh.address, attempts: 3 });
    expect(stats.byBackend).toEqual({});
    expect(mesh.stats().refused).toBe(refusedBefore + 3);
  });

  it('records reset connections of a failing backend as outcome "reset"', async () => {
    feed.set([tcpRoute([{ action: { destinations: [{ serviceName: V2 }] } }])]);
    v2.setFailRatio(1);
    const before = log.samples.length;
    try {
      await runConnectionLoad({ address: mesh.address, attempts: 5 });
    } finally {
      v2.setFailRatio(0);
    }
    await new Promise((r) => setTimeout(r, 50));
    const outcomes = log.samples.slice(before).map((s) => `${s.kind}/${s.backend}/${s.outcome}`);
    expect(outcomes).toEqual(Array(5).fill('tcp/db-v2/reset'));
  });
});

describe('a route change reaches new connections after propagation; open ones keep their backend', () => {
  it('moves new connections only once every client has the new route', async () => {
    const feed = new MemoryRouteFeed([tcpRoute([{ action: { destinations: [{ serviceName: V1 }] } }])]);
    const v1 = await startTcpDemoBackend({ name: 'db-v1' });
    const v2 = await startTcpDemoBackend({ name: 'db-v2' });
    const mesh = await startTcpMesh({
      feed,
      backends: { [V1]: { tcp: v1.address }, [V2]: { tcp: v2.address } },
      propagationMs: { minMs: 150, maxMs: 400 },
      clients: 4,
      seed: 9,
    });
    try {
      const open = await openConnection(mesh.address);
      expect(open.greeting).toBe('hello from db-v1');
      feed.set([tcpRoute([{ action: { destinations: [{ serviceName: V2 }] } }])]);
      expect(mesh.propagated()).toBe(false);
      const early = await runConnectionLoad({ address: mesh.address, attempts: 20 });
      expect(early.byBackend['db-v1']?.['ok'] ?? 0).toBeGreaterThan(0);
      while (!mesh.propagated()) await new Promise((r) => setTimeout(r, 20));
      const late = await runConnectionLoad({ address: mesh.address, attempts: 20 });
      expect(late.byBackend).toEqual({ 'db-v2': { ok: 20 } });
      expect(await open.echo('still here')).toBe('still here');
      open.close();
    } finally {
      await mesh.close();
      await v1.close();
      await v2.close();
    }
  });
});

describe('TLS passthrough through the local mesh', () => {
  const feed = new MemoryRouteFeed();
  let a1: StreamDemoBackend;
  let a2: StreamDemoBackend;
  let other: StreamDemoBackend;
  let mesh: StreamMesh;
  const OTHER = `${P}/backendServices/other`;

  function tlsRoute(name: string, rules: NonNullable<TlsRoute['rules']>): TlsRoute {
    return { name: `${P}/tlsRoutes/${name}`, meshes: [MESH], rules };
  }

  beforeAll(async () => {
    a1 = await startTlsDemoBackend({ name: 'db-v1', alpn: ['postgresql', 'h2'] });
    a2 = await startTlsDemoBackend({ name: 'db-v2', alpn: ['postgresql', 'h2'] });
    other = await startTlsDemoBackend({ name: 'other' });
    mesh = await startTlsMesh({
      feed,
      backends: { [V1]: { tls: a1.address }, [V2]: { tls: a2.address }, [OTHER]: { tls: other.address } },
      random: seededRandom(13),
      helloTimeoutMs: 300,
    });
  });
  afterAll(async () => {
    await mesh.close();
    await a1.close();
    await a2.close();
    await other.close();
  });

  it('routes by SNI (exact before wildcard) and ALPN, and splits by weight within binomial bounds', async () => {
    feed.set([
      tlsRoute('wild', [
        { matches: [{ sniHost: ['*.internal'] }], action: { destinations: [{ serviceName: OTHER }] } },
      ]),
      tlsRoute('db', [
        {
          matches: [{ sniHost: ['db.internal'], alpn: ['postgresql'] }],
          action: { destinations: [{ serviceName: V1 }] },
        },
        { matches: [{ sniHost: ['db.internal'] }], action: { destinations: weighted(40) } },
      ]),
    ]);
    const pg = await runConnectionLoad({
      address: mesh.address,
      attempts: 5,
      tls: { servername: 'db.internal', alpn: ['postgresql'] },
    });
    expect(pg.byBackend).toEqual({ 'db-v1': { ok: 5 } });
    const wild = await runConnectionLoad({
      address: mesh.address,
      attempts: 5,
      tls: { servername: 'cache.internal' },
    });
    expect(wild.byBackend).toEqual({ other: { ok: 5 } });
    const split = await runConnectionLoad({
      address: mesh.address,
      attempts: 300,
      concurrency: 16,
      tls: { servername: 'db.internal' },
    });
    const b = split.byBackend['db-v2']?.['ok'] ?? 0;
    expect((split.byBackend['db-v1']?.['ok'] ?? 0) + b).toBe(300);
    expectBinomial(b, 300, 0.4);
  });

  it('passes the handshake through untouched: the backend sees the SNI and negotiates ALPN', async () => {
    const { connect: tlsConnect } = await import('node:tls');
    const [host = '', port = ''] = mesh.address.split(':');
    const greeting = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({
        host,
        port: Number(port),
        servername: 'db.internal',
        ALPNProtocols: ['h2'],
        rejectUnauthorized: false,
      });
      s.on('error', reject);
      s.once('data', (chunk: Buffer) => {
        s.destroy();
        resolve(chunk.toString('utf8').trim());
      });
    });
    expect(greeting).toMatch(/^hello from db-v[12] sni=db\.internal alpn=h2$/);
  });

  it('resets a connection no rule matches or that does not start with a ClientHello', async () => {
    const before = mesh.stats().refused;
    const none = await runConnectionLoad({
      address: mesh.address,
      attempts: 2,
      tls: { servername: 'example.com' },
    });
    expect(none.byBackend).toEqual({});
    const plain = await runConnectionLoad({ address: mesh.address, attempts: 1, timeoutMs: 2000 });
    expect(plain.byBackend).toEqual({});
    expect(mesh.stats().refused).toBe(before + 3);
  });
});
