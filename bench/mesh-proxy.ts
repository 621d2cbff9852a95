/**
 * What the local mesh proxy costs: added latency (p50/p90/p99) of a request through the proxy
 * versus the same request straight to the backend — same client, same run, interleaved pairs
 * in alternating order — and sustained requests/s through the proxy (closed loop), with the
 * direct figure for reference.
 *
 * The backend (a demo backend: no errors, no latency) and the proxy (an in-process RouteFeed
 * holding one route, a recorder that only counts) each run on their own worker thread; the
 * client runs on the main thread. On a 2-core machine the three share the cores, as the local
 * cloud's processes do.
 *
 *   node bench/mesh-proxy.ts [--pairs N] [--warmup N] [--seconds S] [--concurrency C] [--json]
 *     --pairs N        sequential direct/proxied request pairs for latency (default 5000)
 *     --warmup N       pairs sent first and not measured (default 1000)
 *     --seconds S      length of each throughput run (default 5)
 *     --concurrency C  requests in flight in the throughput runs (default 32)
 *     --json           machine-readable results instead of tables
 */
import { Agent, request as httpRequest } from 'node:http';
import { availableParallelism, cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { percentile } from '../local/mesh/codes.ts';
import { startDemoBackend } from '../local/mesh/demo-backend.ts';
import { CountingRecorder, MemoryRouteFeed } from '../local/mesh/in-memory.ts';
import { type LoadStats, runLoad } from '../local/mesh/load.ts';
import { startMeshProxy } from '../local/mesh/proxy.ts';
import { formatTable } from './analysis/table.ts';

const HOST = 'bench.internal';
const BACKEND_SERVICE = 'projects/bench/locations/global/backendServices/bench-backend';

type Role = { readonly role: 'backend' } | { readonly role: 'proxy'; readonly backendUrl: string };
type Ready = { readonly url: string };
type Stopped = { readonly served: number };

// ---------- worker threads ----------

async function runWorker(role: Role): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('not a worker');
  if (role.role === 'backend') {
    const backend = await startDemoBackend({ name: 'bench-backend' });
    port.on('message', () => {
      const served = backend.stats().total;
      void backend.close().then(() => {
        port.postMessage({ served } satisfies Stopped);
        port.close();
      });
    });
    port.postMessage({ url: backend.url } satisfies Ready);
    return;
  }
  const feed = new MemoryRouteFeed([
    {
      name: 'projects/bench/locations/global/httpRoutes/bench',
      hostnames: [HOST],
      rules: [
        { matches: [{ prefixMatch: '/' }], action: { destinations: [{ serviceName: BACKEND_SERVICE }] } },
      ],
    },
  ]);
  const recorder = new CountingRecorder();
  const proxy = await startMeshProxy({ feed, recorder, backends: { [BACKEND_SERVICE]: role.backendUrl } });
  port.on('message', () => {
    const served = recorder.total();
    void proxy.close().then(() => {
      port.postMessage({ served } satisfies Stopped);
      port.close();
    });
  });
  port.postMessage({ url: proxy.url } satisfies Ready);
}

interface Started {
  readonly url: string;
  stop(): Promise<number>;
}

function startWorker(role: Role): Promise<Started> {
  const worker = new Worker(new URL(import.meta.url), { workerData: role });
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (ready: Ready) => {
      resolve({
        url: ready.url,
        stop: () =>
          new Promise<number>((done) => {
            worker.once('message', (stopped: Stopped) => done(stopped.served));
            worker.postMessage('stop');
          }),
      });
    });
  });
}

// ---------- client ----------

interface Options {
  readonly pairs: number;
  readonly warmup: number;
  readonly seconds: number;
  readonly concurrency: number;
  readonly json: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      pairs: { type: 'string', default: '5000' },
      warmup: { type: 'string', default: '1000' },
      seconds: { type: 'string', default: '5' },
      concurrency: { type: 'string', default: '32' },
      json: { type: 'boolean', default: false },
    },
  });
  const whole = (name: string, text: string, min: number): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number ≥ ${min}`);
    return n;
  };
  return {
    pairs: whole('pairs', values.pairs, 1),
    warmup: whole('warmup', values.warmup, 0),
    seconds: Number(values.seconds) > 0 ? Number(values.seconds) : 5,
    concurrency: whole('concurrency', values.concurrency, 1),
    json: values.json,
  };
}

/** One GET with the route's Host header; resolves with the time to the end of the body, ms. */
function timed(agent: Agent, base: URL): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = httpRequest(
      { agent, hostname: base.hostname, port: base.port, path: '/bench', headers: { host: HOST } },
      (res) => {
        if (res.statusCode !== 200) reject(new Error(`${base.origin}: HTTP ${res.statusCode}`));
        res.resume();
        res.on('end', () => resolve(performance.now() - t0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
}

function percentiles(values: readonly number[]): Percentiles {
  const sorted = Float64Array.from(values).sort();
  return { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99) };
}

interface Throughput {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly completed: number;
}

function throughput(s: LoadStats): Throughput {
  return {
    rps: s.achievedRps,
    p50Ms: s.latencyMs.p50,
    p99Ms: s.latencyMs.p99,
    errors: s.errors + s.codes.total - s.codes['2xx'],
    completed: s.completed,
  };
}

async function main(): Promise<void> {
  const opts = options();
  const backend = await startWorker({ role: 'backend' });
  const proxy = await startWorker({ role: 'proxy', backendUrl: backend.url });
  const direct = new URL(backend.url);
  const viaProxy = new URL(proxy.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });

  const directMs: number[] = [];
  const proxyMs: number[] = [];
  const diffMs: number[] = [];
  for (let i = 0; i < opts.warmup + opts.pairs; i += 1) {
    const proxyFirst = i % 2 === 1;
    const a = await timed(agent, proxyFirst ? viaProxy : direct);
    const b = await timed(agent, proxyFirst ? direct : viaProxy);
    if (i < opts.warmup) continue;
    const [d, p] = proxyFirst ? [b, a] : [a, b];
    directMs.push(d);
    proxyMs.push(p);
    diffMs.push(p - d);
  }
  agent.destroy();

  const load = (url: string): Promise<LoadStats> =>
    runLoad({
      url,
      host: HOST,
      path: '/bench',
      concurrency: opts.concurrency,
      durationMs: opts.seconds * 1000,
    });
  const proxied = throughput(await load(proxy.url));
  const straight = throughput(await load(backend.url));

  const recorded = await proxy.stop();
  const served = await backend.stop();
  const proxiedRequests = opts.warmup + opts.pairs + proxied.completed;

  const d = percentiles(directMs);
  const p = percentiles(proxyMs);
  const pairDiff = percentiles(diffMs);
  const result = {
    node: process.version,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    pairs: opts.pairs,
    latencyMs: {
      direct: d,
      proxy: p,
      added: { p50: p.p50 - d.p50, p90: p.p90 - d.p90, p99: p.p99 - d.p99 },
      pairDifference: pairDiff,
    },
    throughput: { seconds: opts.seconds, concurrency: opts.concurrency, proxy: proxied, direct: straight },
    recordedByProxy: recorded,
    proxiedRequests,
    servedByBackend: served,
  };
  if (opts.json) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    const ms = (x: number): string => `${x.toFixed(3)} ms`;
    const row = (name: string, x: Percentiles): string[] => [name, ms(x.p50), ms(x.p90), ms(x.p99)];
    console.log(
      `mesh proxy benchmark — node ${result.node}, ${result.cpus} CPUs (${result.cpuModel}); ` +
        'client, proxy and backend on separate threads\n',
    );
    console.log(
      `latency: ${opts.pairs} interleaved sequential pairs, keep-alive, after ${opts.warmup} warm-up pairs`,
    );
    console.log(
      formatTable(
        ['', 'p50', 'p90', 'p99'],
        [
          row('direct', d),
          row('via proxy', p),
          row('added (p_proxy − p_direct)', result.latencyMs.added),
          row('per-pair difference', pairDiff),
        ],
      ),
    );
    console.log(`\nthroughput: closed loop, ${opts.concurrency} in flight, ${opts.seconds} s each`);
    const tRow = (name: string, t: Throughput): string[] => [
      name,
      t.rps.toFixed(0),
      ms(t.p50Ms),
      ms(t.p99Ms),
      String(t.errors),
    ];
    console.log(
      formatTable(
        ['', 'req/s', 'p50', 'p99', 'non-2xx/errors'],
        [tRow('via proxy', proxied), tRow('direct', straight)],
      ),
    );
    console.log(
      `\nrecorded by the proxy: ${recorded} of ${proxiedRequests} proxied requests; ` +
        `served by the backend: ${served} (proxied + direct)`,
    );
  }
  if (recorded !== proxiedRequests) process.exitCode = 1;
}

if (isMainThread) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else {
  runWorker(workerData as Role).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
