/**
 * Time to safety: from publishing a Monitoring incident to rollout-alerts until the HTTPRoute's
 * rule sends 100% to stable again, on the local stack (Pub/Sub emulator push → onAlert function →
 * Firestore → Network Services API). Each run starts a canary at 20%, waits until it is live,
 * then publishes an `open` incident labelled with the route.
 *
 *   npm run bench:safety [-- --runs 50] [--operation-delay-ms 0] [--json]
 *
 * The route API stand-in completes operations after --operation-delay-ms (default 0: the figure
 * is the controller's own latency; Google's real operations add their own time).
 */
import { parseArgs } from 'node:util';
import { createFirestore } from '../functions/adapters/firestore-client.ts';
import { FirestoreRolloutStore } from '../functions/adapters/firestore-store.ts';
import { isTerminal, type Rollout } from '../functions/core/state.ts';
import { TOPICS } from '../functions/manifest.ts';
import { startLocalCloud } from '../local/cloud.ts';
import { startControllerOn } from '../local/controller.ts';
import { formatTable } from './analysis/table.ts';

process.env['METADATA_SERVER_DETECTION'] ??= 'none';
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '50' },
    'operation-delay-ms': { type: 'string', default: '0' },
    json: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const operationDelayMs = Number(values['operation-delay-ms']);
const log = (line: string) => {
  if (!values.json) process.stderr.write(`${line}\n`);
};

const cloud = await startLocalCloud({ timeScale: 20, apps: ['checkout'], alerts: false, operationDelayMs });
const first = cloud.apps[0];
if (!first) throw new Error('no app');
const app = first;
const controller = await startControllerOn(cloud, {
  tickEveryMs: 0,
});
const db = createFirestore({ projectId: cloud.project, emulatorHost: cloud.firestoreHost });
const store = new FirestoreRolloutStore(db);
const routes = cloud.networkServices.store;

const stableOnly = () =>
  JSON.stringify(routes.route(app.route)?.rules?.[1]?.action?.destinations) ===
  JSON.stringify([{ serviceName: app.stable }]);

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
      policy_user_labels: { rollout_route: app.name },
      condition_name: '5xx share of checkout-v2',
      resource: { type: 'cloud_run_revision', labels: { service_name: app.canaryService } },
      threshold_value: '0.1',
      observed_value: '0.42',
      summary: 'bench incident',
    },
  };
}

const samples: number[] = [];
for (let run = 1; run <= runs; run += 1) {
  const id = `safety-${Date.now().toString(36)}-${run}`;
  await controller.publish(TOPICS.requests, {
    rolloutId: id,
    route: app.route,
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
        resolve(performance.now());
      }
    });
  });
  const start = performance.now();
  await controller.publish(TOPICS.alerts, incident(`bench-${run}`, 'open'));
  const end = await safe;
  samples.push(end - start);
  const final = await until(id, (r) => isTerminal(r.status.phase));
  if (final.status.phase !== 'RolledBack') throw new Error(`run ${run} ended ${final.status.phase}`);
  log(`run ${String(run).padStart(3)}: ${(end - start).toFixed(1)} ms`);
}

const sorted = [...samples].sort((a, b) => a - b);
const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
const result = {
  runs,
  operationDelayMs,
  p50Ms: Number(at(0.5).toFixed(1)),
  p90Ms: Number(at(0.9).toFixed(1)),
  p99Ms: Number(at(0.99).toFixed(1)),
  maxMs: Number((sorted.at(-1) ?? Number.NaN).toFixed(1)),
  targets: { p50Ms: 250, p99Ms: 1000 },
};
if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
else {
  process.stdout.write(
    `${formatTable(
      ['runs', 'operation delay', 'p50', 'p90', 'p99', 'max'],
      [
        [
          String(runs),
          `${operationDelayMs} ms`,
          `${result.p50Ms} ms`,
          `${result.p90Ms} ms`,
          `${result.p99Ms} ms`,
          `${result.maxMs} ms`,
        ],
      ],
    )}\n`,
  );
  process.stdout.write(
    `${result.p50Ms <= 250 ? 'PASS' : 'FAIL'} p50 ≤ 250 ms; ${result.p99Ms <= 1000 ? 'PASS' : 'FAIL'} p99 ≤ 1000 ms\n`,
  );
}
await db.terminate();
await controller.stop();
await cloud.stop();
process.exit(0);
