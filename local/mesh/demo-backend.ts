/**
 * A demo service standing in for one Cloud Run revision behind the local mesh. Its error
 * ratio (share of requests answered with a 5xx) and latency (base + uniform jitter, plus an
 * optional slow tail) are options, changeable at runtime — programmatically or over HTTP — so
 * a scenario can turn a canary bad mid-rollout. It counts what it served by status class.
 *
 * Every path answers JSON `{service, status, method, path, query, headers}` (the request
 * headers echoed, for routing checks) with header `x-demo-service`. Admin paths are not
 * counted:
 *   GET  /__admin/health                   200 {ok, service}
 *   GET  /__admin/behaviour                the current behaviour
 *   PUT  /__admin/behaviour  {partial}     changes it (PATCH too); 400 names a bad field
 *   GET  /__admin/stats                    {service, total, 1xx…5xx}
 *   DELETE /__admin/stats                  resets the counts
 *
 * CLI:
 *   node local/mesh/demo-backend.ts --port 8081 --name shop-canary --error-ratio 0.01 \
 *     --latency-ms 20 [--jitter-ms 10] [--tail-ratio 0.01 --tail-ms 500] [--error-status 503] \
 *     [--host 127.0.0.1] [--seed N]
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { listen } from '../net.ts';
import { type CodeCounts, countStatus, emptyCounts } from './codes.ts';
import { type RandomSource, seededRandom } from './weights.ts';

export interface DemoBehaviour {
  /** Share of requests answered with `errorStatus`, 0–1. */
  readonly errorRatio: number;
  /** Status of the injected errors, 500–599; default 500. */
  readonly errorStatus: number;
  /** Base latency of every answer, ms. */
  readonly latencyMs: number;
  /** Plus a uniform extra in [0, jitterMs), ms. */
  readonly jitterMs: number;
  /** Share of requests that take `tailMs` longer, 0–1 (exercises p99 checks). */
  readonly tailRatio: number;
  readonly tailMs: number;
}

export const DEFAULT_BEHAVIOUR: DemoBehaviour = {
  errorRatio: 0,
  errorStatus: 500,
  latencyMs: 0,
  jitterMs: 0,
  tailRatio: 0,
  tailMs: 0,
};

export type DemoStats = { readonly service: string } & CodeCounts;

export interface DemoBackendOptions extends Partial<DemoBehaviour> {
  /** Port on the listen address; default: one the system picks. */
  readonly port?: number;
  /** Listen address; default 127.0.0.1. */
  readonly host?: string;
  /** Name reported in answers and stats; default "demo". */
  readonly name?: string;
  /** Source for error and latency draws; default Math.random. */
  readonly random?: RandomSource;
}

export interface DemoBackend {
  readonly url: string;
  readonly port: number;
  readonly name: string;
  behaviour(): DemoBehaviour;
  /** Changes some of the behaviour (validated like the admin endpoint); returns the result. */
  setBehaviour(change: Partial<DemoBehaviour>): DemoBehaviour;
  stats(): DemoStats;
  resetStats(): void;
  close(): Promise<void>;
}

const RATIOS = new Set<keyof DemoBehaviour>(['errorRatio', 'tailRatio']);
const DURATIONS = new Set<keyof DemoBehaviour>(['latencyMs', 'jitterMs', 'tailMs']);
const MAX_DURATION_MS = 600_000;

/** `current` with `change` applied; throws an Error naming the first bad field. */
export function mergeBehaviour(current: DemoBehaviour, change: unknown): DemoBehaviour {
  if (typeof change !== 'object' || change === null || Array.isArray(change)) {
    throw new Error('behaviour must be a JSON object');
  }
  const next: Record<string, number> = { ...current };
  for (const [field, value] of Object.entries(change)) {
    if (!(field in DEFAULT_BEHAVIOUR)) {
      throw new Error(`unknown field "${field}" (known: ${Object.keys(DEFAULT_BEHAVIOUR).join(', ')})`);
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${field} must be a number`);
    const key = field as keyof DemoBehaviour;
    if (RATIOS.has(key) && (value < 0 || value > 1)) throw new Error(`${field} must be between 0 and 1`);
    if (DURATIONS.has(key) && (value < 0 || value > MAX_DURATION_MS)) {
      throw new Error(`${field} must be between 0 and ${MAX_DURATION_MS}`);
    }
    if (key === 'errorStatus' && (!Number.isInteger(value) || value < 500 || value > 599)) {
      throw new Error('errorStatus must be an integer from 500 to 599');
    }
    next[field] = value;
  }
  return next as unknown as DemoBehaviour;
}

/** Client side of the admin endpoint, for scenarios driving a backend started as a CLI. */
export async function setRemoteBehaviour(
  url: string,
  change: Partial<DemoBehaviour>,
): Promise<DemoBehaviour> {
  const response = await fetch(new URL('/__admin/behaviour', url), {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(change),
  });
  const body = (await response.json()) as unknown;
  if (!response.ok) throw new Error(`PUT behaviour: HTTP ${response.status} ${JSON.stringify(body)}`);
  return body as DemoBehaviour;
}

export async function remoteStats(url: string): Promise<DemoStats> {
  const response = await fetch(new URL('/__admin/stats', url));
  if (!response.ok) throw new Error(`GET stats: HTTP ${response.status}`);
  return (await response.json()) as DemoStats;
}

function json(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...extra,
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > 64 * 1024) throw new Error('body larger than 64 KiB');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startDemoBackend(options: DemoBackendOptions = {}): Promise<DemoBackend> {
  const name = options.name ?? 'demo';
  const random = options.random ?? Math.random;
  const initial: Partial<Record<keyof DemoBehaviour, number>> = {};
  for (const key of Object.keys(DEFAULT_BEHAVIOUR) as (keyof DemoBehaviour)[]) {
    const value = options[key];
    if (value !== undefined) initial[key] = value;
  }
  let behaviour = mergeBehaviour(DEFAULT_BEHAVIOUR, initial);
  let counts = emptyCounts();
  const timers = new Set<NodeJS.Timeout>();

  const stats = (): DemoStats => ({ service: name, ...counts });

  async function admin(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const method = req.method ?? 'GET';
    if (path === '/__admin/health' && method === 'GET') return json(res, 200, { ok: true, service: name });
    if (path === '/__admin/stats' && method === 'GET') return json(res, 200, stats());
    if (path === '/__admin/stats' && method === 'DELETE') {
      counts = emptyCounts();
      return json(res, 200, stats());
    }
    if (path === '/__admin/behaviour' && method === 'GET') return json(res, 200, behaviour);
    if (path === '/__admin/behaviour' && (method === 'PUT' || method === 'PATCH')) {
      try {
        const text = await readBody(req);
        behaviour = mergeBehaviour(behaviour, text.trim() === '' ? {} : (JSON.parse(text) as unknown));
        return json(res, 200, behaviour);
      } catch (error) {
        return json(res, 400, { error: (error as Error).message });
      }
    }
    return json(res, 404, { error: `no admin endpoint ${method} ${path}` });
  }

  function serve(req: IncomingMessage, res: ServerResponse, path: string, query: string): void {
    const b = behaviour;
    const status = b.errorRatio > 0 && random() < b.errorRatio ? b.errorStatus : 200;
    let delay = b.latencyMs;
    if (b.jitterMs > 0) delay += random() * b.jitterMs;
    if (b.tailRatio > 0 && random() < b.tailRatio) delay += b.tailMs;
    const answer = (): void => {
      if (res.destroyed) return;
      countStatus(counts, status);
      json(
        res,
        status,
        { service: name, status, method: req.method ?? 'GET', path, query, headers: req.headers },
        { 'x-demo-service': name },
      );
    };
    // Read the body (if any) before answering so the connection can be reused.
    req.resume();
    const whenRead = (): void => {
      if (delay <= 0) {
        answer();
        return;
      }
      const timer = setTimeout(() => {
        timers.delete(timer);
        answer();
      }, delay);
      timers.add(timer);
    };
    if (req.readableEnded) whenRead();
    else req.once('end', whenRead);
  }

  const server = createServer((req, res) => {
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q === -1 ? target : target.slice(0, q);
    if (path.startsWith('/__admin/')) {
      admin(req, res, path).catch((error: unknown) => {
        if (!res.headersSent) json(res, 500, { error: (error as Error).message });
      });
      return;
    }
    serve(req, res, path, q === -1 ? '' : target.slice(q + 1));
  });
  const { port, url } = await listen(server, options.port, options.host);

  return {
    url,
    port,
    name,
    behaviour: () => behaviour,
    setBehaviour: (change) => {
      behaviour = mergeBehaviour(behaviour, change);
      return behaviour;
    },
    stats,
    resetStats: () => {
      counts = emptyCounts();
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function summary(b: DemoBehaviour): string {
  const tail = b.tailRatio > 0 ? `, ${b.tailRatio * 100}% +${b.tailMs} ms` : '';
  return `errors ${b.errorRatio * 100}% (${b.errorStatus}), latency ${b.latencyMs} ms + up to ${b.jitterMs} ms${tail}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      name: { type: 'string', default: 'demo' },
      'error-ratio': { type: 'string' },
      'error-status': { type: 'string' },
      'latency-ms': { type: 'string' },
      'jitter-ms': { type: 'string' },
      'tail-ratio': { type: 'string' },
      'tail-ms': { type: 'string' },
      seed: { type: 'string' },
    },
  });
  const numeric: Partial<Record<keyof DemoBehaviour, number>> = {};
  const flags: ReadonlyArray<readonly [string | undefined, keyof DemoBehaviour]> = [
    [values['error-ratio'], 'errorRatio'],
    [values['error-status'], 'errorStatus'],
    [values['latency-ms'], 'latencyMs'],
    [values['jitter-ms'], 'jitterMs'],
    [values['tail-ratio'], 'tailRatio'],
    [values['tail-ms'], 'tailMs'],
  ];
  for (const [text, field] of flags) if (text !== undefined) numeric[field] = Number(text);
  const backend = await startDemoBackend({
    ...mergeBehaviour(DEFAULT_BEHAVIOUR, numeric),
    port: Number(values.port),
    host: values.host,
    name: values.name,
    ...(values.seed === undefined ? {} : { random: seededRandom(Number(values.seed)) }),
  });
  console.log(`demo backend "${backend.name}" listening on ${backend.url} (${summary(backend.behaviour())})`);
  const stop = (): void => {
    backend.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(`demo-backend: ${(error as Error).message}`);
    process.exit(2);
  });
}
