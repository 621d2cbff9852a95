/**
 * Load through the local mesh: a steady request rate (open loop; a request that falls due
 * while `concurrency` are in flight is skipped and counted) or, without a rate, as fast as
 * `concurrency` requests in flight allow (closed loop). Keep-alive connections; outcomes
 * counted by status class and by the backend that answered (the proxy's `x-mesh-backend`).
 *
 * CLI:
 *   node local/mesh/load.ts --url http://127.0.0.1:8080 --host shop.internal --rps 50 \
 *     [--duration 60s] [--requests N] [--concurrency 32] [--path /] [--method GET] \
 *     [--header 'name: value']... [--every 5s] [--json]
 * Runs until the duration or request count is reached, or until Ctrl-C; prints a line every
 * `--every` and a summary (JSON with --json).
 */
import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { type CodeCounts, countStatus, emptyCounts, percentile } from './codes.ts';
import { BACKEND_HEADER } from './proxy.ts';

export interface LoadOptions {
  /** Where to send requests (the mesh proxy), e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** Host header (the route's hostname); default: the URL's host. */
  readonly host?: string;
  /** Request path and query; default "/". */
  readonly path?: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Requests per second; omitted or 0: closed loop. */
  readonly rps?: number;
  /** Stop after this long; omitted: until stop() or maxRequests. */
  readonly durationMs?: number;
  /** Stop after sending this many. */
  readonly maxRequests?: number;
  /** Requests in flight at most; default 32. */
  readonly concurrency?: number;
  /** Per-request socket inactivity limit; default 30 000 ms. */
  readonly timeoutMs?: number;
}

export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export interface LoadStats {
  readonly sent: number;
  /** Requests answered (any status). */
  readonly completed: number;
  /** Requests that failed without an answer (connection errors, timeouts). */
  readonly errors: number;
  /** Requests due at the rate but not sent because `concurrency` were in flight. */
  readonly skipped: number;
  readonly inFlight: number;
  readonly codes: CodeCounts;
  /** Answers by the backend service that served them (from the proxy's response header). */
  readonly byBackend: Readonly<Record<string, CodeCounts>>;
  /** Failures by error code or message. */
  readonly failures: Readonly<Record<string, number>>;
  readonly elapsedMs: number;
  /** Answered requests per second over the elapsed time. */
  readonly achievedRps: number;
  /** Latency of answered requests, ms (a uniform sample of at most 100 000). */
  readonly latencyMs: LatencySummary;
}

export interface LoadRun {
  stats(): LoadStats;
  /** Stops sending, waits for the requests in flight, returns the final stats. */
  stop(): Promise<LoadStats>;
  /** Settles when the run ends (duration, request count or stop()). */
  readonly done: Promise<LoadStats>;
}

const RESERVOIR = 100_000;

export function startLoad(options: LoadOptions): LoadRun {
  const base = new URL(options.url);
  if (base.protocol !== 'http:') throw new Error('load: only http:// URLs are supported');
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 32));
  const rps = options.rps ?? 0;
  if (!(rps >= 0) || !Number.isFinite(rps)) throw new Error('load: rps must be a finite number ≥ 0');
  const maxRequests = options.maxRequests ?? Number.POSITIVE_INFINITY;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const path = options.path ?? '/';
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.host !== undefined) headers['host'] = options.host;
  const body = options.body === undefined ? undefined : Buffer.from(options.body);
  if (body !== undefined) headers['content-length'] = String(body.length);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });

  let sent = 0;
  let completed = 0;
  let errors = 0;
  let skipped = 0;
  let inFlight = 0;
  const codes = emptyCounts();
  const byBackend = new Map<string, CodeCounts>();
  const failures = new Map<string, number>();
  const latencies: number[] = [];
  let latencySeen = 0;
  let latencyTotal = 0;
  let latencyMax = 0;
  const started = performance.now();
  let ended: number | null = null;
  let active = true;
  let scheduled = 0;
  let interval: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;
  let resolveDone: (stats: LoadStats) => void = () => {};
  const done = new Promise<LoadStats>((resolve) => {
    resolveDone = resolve;
  });

  const observeLatency = (ms: number): void => {
    latencySeen += 1;
    latencyTotal += ms;
    if (ms > latencyMax) latencyMax = ms;
    if (latencies.length < RESERVOIR) latencies.push(ms);
    else {
      const slot = Math.floor(Math.random() * latencySeen);
      if (slot < RESERVOIR) latencies[slot] = ms;
    }
  };

  const stats = (): LoadStats => {
    const elapsedMs = (ended ?? performance.now()) - started;
    const sorted = Float64Array.from(latencies).sort();
    return {
      sent,
      completed,
      errors,
      skipped,
      inFlight,
      codes: { ...codes },
      byBackend: Object.fromEntries([...byBackend].map(([k, v]) => [k, { ...v }])),
      failures: Object.fromEntries(failures),
      elapsedMs,
      achievedRps: elapsedMs > 0 ? (completed * 1000) / elapsedMs : 0,
      latencyMs: {
        p50: percentile(sorted, 50),
        p90: percentile(sorted, 90),
        p99: percentile(sorted, 99),
        max: latencyMax,
        mean: latencySeen === 0 ? Number.NaN : latencyTotal / latencySeen,
      },
    };
  };

  const finishIfIdle = (): void => {
    if (active || inFlight > 0 || ended !== null) return;
    ended = performance.now();
    agent.destroy();
    resolveDone(stats());
  };

  const halt = (): void => {
    if (!active) return;
    active = false;
    if (interval !== undefined) clearInterval(interval);
    if (deadline !== undefined) clearTimeout(deadline);
    finishIfIdle();
  };

  const sendOne = (onSettled: () => void): void => {
    sent += 1;
    inFlight += 1;
    const t0 = performance.now();
    let settled = false;
    const settle = (status: number | null, backend: string | undefined, failure?: string): void => {
      if (settled) return;
      settled = true;
      inFlight -= 1;
      if (status === null) {
        errors += 1;
        const key = failure ?? 'error';
        failures.set(key, (failures.get(key) ?? 0) + 1);
      } else {
        completed += 1;
        countStatus(codes, status);
        observeLatency(performance.now() - t0);
        if (backend !== undefined) {
          let counts = byBackend.get(backend);
          if (counts === undefined) {
            counts = emptyCounts();
            byBackend.set(backend, counts);
          }
          countStatus(counts, status);
        }
      }
      onSettled();
      if (sent >= maxRequests) halt();
      finishIfIdle();
    };
    const req = httpRequest({
      agent,
      hostname: base.hostname.replace(/^\[|\]$/g, ''),
      port: base.port === '' ? 80 : Number(base.port),
      method,
      path,
      headers,
    });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const header = res.headers[BACKEND_HEADER];
      const backend = Array.isArray(header) ? header[0] : header;
      res.on('end', () => settle(status, backend));
      res.on('error', (error: NodeJS.ErrnoException) => settle(null, undefined, error.code ?? error.message));
      res.resume();
    });
    req.on('error', (error: NodeJS.ErrnoException) => settle(null, undefined, error.code ?? error.message));
    req.end(body);
  };

  if (options.durationMs !== undefined) deadline = setTimeout(halt, Math.max(0, options.durationMs));

  if (maxRequests <= 0) halt();
  else if (rps > 0) {
    const tick = (): void => {
      if (!active) return;
      const due = Math.floor(((performance.now() - started) * rps) / 1000) + 1;
      // More than a second behind (a stalled event loop): skip rather than burst.
      if (due - scheduled > rps) {
        skipped += due - scheduled - Math.ceil(rps);
        scheduled = due - Math.ceil(rps);
      }
      while (active && scheduled < due) {
        scheduled += 1;
        if (inFlight >= concurrency) skipped += 1;
        else {
          sendOne(() => {});
          if (sent >= maxRequests) halt();
        }
      }
    };
    interval = setInterval(tick, Math.max(1, Math.min(20, 1000 / rps)));
    tick();
  } else {
    const loop = (): void => {
      if (active && sent < maxRequests) sendOne(loop);
    };
    for (let i = 0; i < concurrency; i += 1) loop();
  }

  return {
    stats,
    stop: () => {
      halt();
      return done;
    },
    done,
  };
}

/** Runs a load to its end; needs `durationMs` or `maxRequests`. */
export async function runLoad(options: LoadOptions): Promise<LoadStats> {
  if (options.durationMs === undefined && options.maxRequests === undefined) {
    throw new Error('runLoad needs durationMs or maxRequests');
  }
  return startLoad(options).done;
}

/** "500ms", "30s", "2m", "1h", or a number of seconds. */
export function parseDurationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (m === null) throw new Error(`not a duration: "${text}" (use e.g. 500ms, 30s, 2m)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000);
}

function fmt(ms: number): string {
  return Number.isNaN(ms) ? '-' : `${ms.toFixed(1)}ms`;
}

export function formatStats(s: LoadStats): string {
  const classes = (['2xx', '3xx', '4xx', '5xx'] as const)
    .filter((c) => s.codes[c] > 0)
    .map((c) => `${c}=${s.codes[c]}`)
    .join(' ');
  const backends = Object.entries(s.byBackend)
    .map(
      ([name, c]) =>
        `${name} ${c.total} (5xx ${c.total === 0 ? 0 : ((100 * c['5xx']) / c.total).toFixed(1)}%)`,
    )
    .join(', ');
  return [
    `t=${(s.elapsedMs / 1000).toFixed(1)}s sent=${s.sent} rps=${s.achievedRps.toFixed(1)}`,
    classes === '' ? 'no answers' : classes,
    `errors=${s.errors} skipped=${s.skipped}`,
    `p50=${fmt(s.latencyMs.p50)} p99=${fmt(s.latencyMs.p99)}`,
    backends === '' ? '' : `| ${backends}`,
  ]
    .filter((part) => part !== '')
    .join(' ');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:8080' },
      host: { type: 'string' },
      path: { type: 'string', default: '/' },
      method: { type: 'string', default: 'GET' },
      header: { type: 'string', multiple: true, default: [] },
      rps: { type: 'string' },
      duration: { type: 'string' },
      requests: { type: 'string' },
      concurrency: { type: 'string', default: '32' },
      every: { type: 'string', default: '5s' },
      json: { type: 'boolean', default: false },
    },
  });
  const headers: Record<string, string> = {};
  for (const line of values.header) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`--header "${line}": use "name: value"`);
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const run = startLoad({
    url: values.url,
    path: values.path,
    method: values.method,
    headers,
    concurrency: Number(values.concurrency),
    ...(values.host === undefined ? {} : { host: values.host }),
    ...(values.rps === undefined ? {} : { rps: Number(values.rps) }),
    ...(values.duration === undefined ? {} : { durationMs: parseDurationMs(values.duration) }),
    ...(values.requests === undefined ? {} : { maxRequests: Number(values.requests) }),
  });
  const every = parseDurationMs(values.every);
  const progress =
    values.json || every <= 0 ? undefined : setInterval(() => console.log(formatStats(run.stats())), every);
  const stop = (): void => {
    void run.stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const final = await run.done;
  if (progress !== undefined) clearInterval(progress);
  console.log(values.json ? JSON.stringify(final, null, 2) : `done: ${formatStats(final)}`);
  process.exit(0);
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(`load: ${(error as Error).message}`);
    process.exit(2);
  });
}
