/**
 * Time to safety: from publishing a Monitoring incident to rollout-alerts until the HTTPRoute's
 * rule sends 100% to stable again (read from the Network Services API stand-in), on the local
 * stack (Pub/Sub emulator push → onAlert function → Firestore → Network Services API). Each run
 * starts a canary at 20%, waits until it is live, then publishes an `open` incident labelled with
 * the route and the canary, as the demo's alert policy labels it.
 *
 *   npm run bench:safety [-- --runs 20] [--operation-seconds 0,5,20] [--time-scale 20] [--warmup 1] [--routes 1] [--json]
 *
 * `--routes 2` runs a release of two routes (the checkout and payments apps' HTTPRoutes as the
 * targets of one request): the alert names the first route, and the run is safe only once
 * neither route sends the canary anything. A rollback writes every route of a release at once,
 * so the operation time counted is the time at least one of the two operations was running.
 *
 * The figures are for route operations that take 0, 5 and 20 s on Google (`--operation-seconds`).
 * The stack runs at `--time-scale` (default 20), so the stand-in is told the scaled duration
 * (5 s → 250 ms at 20) and every figure is printed back in Google seconds: real elapsed time ×
 * time scale. Beside each total is the controller's own share: the total minus the time the
 * stand-in's operation took (its createTime → endTime, from operations.list). The controller's
 * own work (Pub/Sub push, Firestore, HTTP) is not slowed down by the time scale, so that share
 * is also given in real milliseconds — the honest figure for it; × time scale it overstates it.
 * The first `--warmup` runs (functions still cold) are not counted.
 */
import { parseArgs } from 'node:util';
import { createFirestore } from '../functions/adapters/firestore-client.ts';
import { FirestoreRolloutStore } from '../functions/adapters/firestore-store.ts';
import { lastSegment } from '../functions/core/resource-name.ts';
import { isTerminal, type Rollout } from '../functions/core/state.ts';
import { TOPICS } from '../functions/manifest.ts';
import { startLocalCloud } from '../local/cloud.ts';
import { startControllerOn } from '../local/controller.ts';
import type { OperationJson } from '../local/network-services/operations.ts';
import { formatTable, quantile } from './analysis/table.ts';

process.env['METADATA_SERVER_DETECTION'] ??= 'none';
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    'operation-seconds': { type: 'string', default: '0,5,20' },
    'time-scale': { type: 'string', default: '20' },
    warmup: { type: 'string', default: '1' },
    routes: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const timeScale = Number(values['time-scale']);
const warmup = Number(values.warmup);
const routeCount = Number(values.routes);
if (routeCount !== 1 && routeCount !== 2) throw new Error(`--routes must be 1 or 2, got ${values.routes}`);
const operationSeconds = values['operation-seconds'].split(',').map((s) => Number(s.trim()));
if (!Number.isInteger(runs) || runs < 1)
  throw new Error(`--runs must be a positive integer, got ${values.runs}`);
if (!Number.isInteger(warmup) || warmup < 0) throw new Error(`--warmup must be ≥ 0, got ${values.warmup}`);
if (!(timeScale >= 1)) throw new Error(`--time-scale must be ≥ 1, got ${values['time-scale']}`);
if (operationSeconds.some((s) => !Number.isFinite(s) || s < 0)) {
  throw new Error(`--operation-seconds must be a list of seconds ≥ 0, got ${values['operation-seconds']}`);
}
const log = (line: string) => {
  if (!values.json) process.stderr.write(`${line}\n`);
};
/** Real milliseconds as Google seconds (the stack runs time-scale times faster than Google). */
const googleSeconds = (realMs: number) => (realMs * timeScale) / 1000;

const cloud = await startLocalCloud({
  timeScale,
  apps: ['checkout', 'payments'].slice(0, routeCount),
  alerts: false,
  operationDelayMs: 0,
});
const first = cloud.apps[0];
if (!first) throw new Error('no app');
const app = first;
const releaseApps = cloud.apps;
const controller = await startControllerOn(cloud, {
  tickEveryMs: 0,
  // The incidents below come from this (configured) policy: accepted without a lookup.
  env: { KNOWN_ALERT_POLICIES: 'checkout canary 5xx' },
});
const db = createFirestore({ projectId: cloud.project, emulatorHost: cloud.firestoreHost });
const store = new FirestoreRolloutStore(db);
const routes = cloud.networkServices.store;

const stableOnly = () =>
  releaseApps.every(
    (a) =>
      JSON.stringify(routes.route(a.route)?.rules?.[1]?.action?.destinations) ===
      JSON.stringify([{ serviceName: a.stable }]),
  );

async function until(id: string, done: (r: Rollout) => boolean, timeoutMs = 30_000): Promise<Rollout> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await store.get(id);
    if (r && done(r)) return r;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`rollout ${id} timed out`);
}

function incident(id: string, state: 'open' | 'closed') {
  return {
    version: '1.2',
    incident: {
      incident_id: id,
      scoping_project_id: cloud.project,
      state,
      started_at: Math.floor(Date.now() / 1000),
      ended_at: null,
      policy_name: 'checkout canary 5xx',
      policy_user_labels: { rollout_route: app.name, rollout_canary: lastSegment(app.canary) },
      condition_name: '5xx share of checkout-v2',
      resource: { type: 'cloud_run_revision', labels: { service_name: app.canaryService } },
      threshold_value: '0.1',
      observed_value: '0.42',
      summary: 'bench incident',
    },
  };
}

/** The first write of `route` that completed after `since` (ms): the one that made the route safe. */
function firstOperationAfter(route: string, since: number): { createdAt: number; endedAt: number } | null {
  const page = routes.service.listOperations({ project: cloud.project, location: 'global' }, '1000', null);
  const operations = (page['operations'] ?? []) as OperationJson[];
  const times = operations
    .filter((o) => o.done && o.response !== undefined && o.metadata['target'] === route)
    .map((o) => ({
      createdAt: Date.parse(String(o.metadata['createTime'])),
      endedAt: Date.parse(String(o.metadata['endTime'])),
    }))
    .filter((t) => t.createdAt >= since)
    .sort((a, b) => a.endedAt - b.endedAt);
  return times[0] ?? null;
}

/** How long at least one of the operations was running (a rollback writes a release's routes at once). */
function busyMs(operations: readonly { createdAt: number; endedAt: number }[]): number {
  let busy = 0;
  let reached = Number.NEGATIVE_INFINITY;
  for (const o of [...operations].sort((a, b) => a.createdAt - b.createdAt)) {
    busy += Math.max(0, o.endedAt - Math.max(o.createdAt, reached));
    reached = Math.max(reached, o.endedAt);
  }
  return busy;
}

interface Sample {
  /** Real milliseconds. */
  readonly totalMs: number;
  readonly operationMs: number;
  readonly controllerMs: number;
  /** Alert published → the rollback's operation created. */
  readonly toOperationMs: number;
}

let sequence = 0;
async function once(): Promise<Sample> {
  sequence += 1;
  const id = `safety-${Date.now().toString(36)}-${sequence}`;
  const where =
    releaseApps.length === 1
      ? { route: app.route }
      : { targets: releaseApps.map((a) => ({ route: a.route, stable: a.stable, canary: a.canary })) };
  await controller.publish(TOPICS.requests, {
    rolloutId: id,
    ...where,
    stable: app.stable,
    canary: app.canary,
    driver: 'scheduler',
    steps: [{ weight: 20, hold: '1h' }],
  });
  await until(id, (r) => r.weights.canary === 20 && r.intent === null);
  const safe = new Promise<number>((resolve) => {
    const unsubscribe = routes.subscribe(() => {
      if (stableOnly()) {
        unsubscribe();
        resolve(Date.now());
      }
    });
  });
  const start = Date.now();
  await controller.publish(TOPICS.alerts, incident(`bench-${sequence}`, 'open'));
  const end = await safe;
  const final = await until(id, (r) => isTerminal(r.status.phase));
  if (final.status.phase !== 'RolledBack') throw new Error(`run ${sequence} ended ${final.status.phase}`);
  const operations = releaseApps.map((a) => firstOperationAfter(a.route, start));
  if (operations.some((o) => o === null)) {
    throw new Error(`run ${sequence}: a route has no completed operation after the alert`);
  }
  const done = operations.flatMap((o) => (o === null ? [] : [o]));
  const totalMs = end - start;
  const operationMs = busyMs(done);
  return {
    totalMs,
    operationMs,
    controllerMs: totalMs - operationMs,
    toOperationMs: Math.min(...done.map((o) => o.createdAt)) - start,
  };
}

for (let i = 1; i <= warmup; i += 1) {
  const s = await once();
  log(`warm-up ${i}: ${s.totalMs} ms real (not counted)`);
}

interface Figures {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}
const figures = (xs: readonly number[], unit: (ms: number) => number): Figures => {
  const sorted = xs.map(unit).sort((a, b) => a - b);
  const round = (x: number) => Number(x.toFixed(3));
  return {
    p50: round(quantile(sorted, 0.5)),
    p99: round(quantile(sorted, 0.99)),
    max: round(sorted.at(-1) ?? Number.NaN),
  };
};
const realMs = (ms: number) => ms;

const rows: {
  operationSeconds: number;
  operationDelayMsReal: number;
  totalS: Figures;
  operationS: Figures;
  controllerS: Figures;
  controllerRealMs: Figures;
  toOperationRealMs: Figures;
}[] = [];
for (const seconds of operationSeconds) {
  const delayMs = (seconds * 1000) / timeScale;
  routes.setOperationDelay(delayMs);
  const samples: Sample[] = [];
  for (let run = 1; run <= runs; run += 1) {
    const s = await once();
    samples.push(s);
    log(
      `operation ${seconds} s, run ${String(run).padStart(3)}: ${googleSeconds(s.totalMs).toFixed(2)} s ` +
        `(controller ${googleSeconds(s.controllerMs).toFixed(2)} s; real ${s.totalMs} ms, controller ${s.controllerMs} ms)`,
    );
  }
  rows.push({
    operationSeconds: seconds,
    operationDelayMsReal: delayMs,
    totalS: figures(
      samples.map((s) => s.totalMs),
      googleSeconds,
    ),
    operationS: figures(
      samples.map((s) => s.operationMs),
      googleSeconds,
    ),
    controllerS: figures(
      samples.map((s) => s.controllerMs),
      googleSeconds,
    ),
    controllerRealMs: figures(
      samples.map((s) => s.controllerMs),
      realMs,
    ),
    toOperationRealMs: figures(
      samples.map((s) => s.toOperationMs),
      realMs,
    ),
  });
}

const targets = { controllerP50RealMs: 250, controllerP99RealMs: 1000 };
const result = {
  timeScale,
  runs,
  warmup,
  routes: routeCount,
  unit: 'Google seconds (real elapsed × time scale)',
  rows,
  targets,
};
if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
else {
  const s = (x: number) => `${x.toFixed(2)} s`;
  const ms = (x: number) => `${Math.round(x)} ms`;
  process.stdout.write(
    `Alert published → ${routeCount === 1 ? 'route' : `all ${routeCount} routes of the release`} 100 % stable, ${runs} runs per row (+${warmup} warm-up not counted), time scale ${timeScale}.\n` +
      `Figures in Google seconds = real elapsed × ${timeScale}; controller = total − the stand-in's operation time.\n` +
      `The controller's own work does not scale, so its share is also given in real ms.\n`,
  );
  process.stdout.write(
    `${formatTable(
      [
        'operation',
        'total p50',
        'total p99',
        'controller p50',
        'controller p99',
        'controller real p50',
        'controller real p99',
      ],
      rows.map((r) => [
        `${r.operationSeconds} s`,
        s(r.totalS.p50),
        s(r.totalS.p99),
        s(r.controllerS.p50),
        s(r.controllerS.p99),
        ms(r.controllerRealMs.p50),
        ms(r.controllerRealMs.p99),
      ]),
    )}\n`,
  );
  const worstP50 = Math.max(...rows.map((r) => r.controllerRealMs.p50));
  const worstP99 = Math.max(...rows.map((r) => r.controllerRealMs.p99));
  process.stdout.write(
    `controller share (real) against the README targets: p50 ${Math.round(worstP50)} ms ${worstP50 <= targets.controllerP50RealMs ? '≤' : '>'} 250 ms, ` +
      `p99 ${Math.round(worstP99)} ms ${worstP99 <= targets.controllerP99RealMs ? '≤' : '>'} 1000 ms (worst row)\n`,
  );
}
await db.terminate();
await controller.stop();
await cloud.stop();
process.exit(0);
