/**
 * Canary to safety: from the moment a live canary turns bad until the HTTPRoute's rule sends 100%
 * to stable again (read from the Network Services API stand-in), on the whole local stack with
 * Google's timing (the local cloud's default: one Cloud Run metric point per 60 s sampling period,
 * each visible after a drawn ingestion delay of 30–180 s; route operations of 3–10 s), two ways:
 *
 *   analysis  no alert policy (cloud option `alerts: false`): only the rollout's own analysis
 *             (default settings: 60 s windows, Cloud Run's 180 s ingestion delay) can catch it;
 *   alert     the local alert evaluator with the demo's canary policy (5xx ratio above 0.1 for
 *             30 s), publishing to rollout-alerts; the rollout's analysis runs too, so the row
 *             says which of the two rolled the canary back.
 *
 *   npm run bench:canary [-- --runs 5] [--time-scale 60] [--paths analysis,alert] [--json]
 *
 * Each run: steady load of 80 rps through the mesh (`startLoad`, for the whole bench), a rollout
 * with one step {weight: 20, hold: '30m'} (long enough that the step is still being judged when
 * the canary turns bad and cannot end first); once the 20% split is live and one analysis window
 * was judged, the canary backend's errorRatio goes to 0.5 (t0). Afterwards it goes back to the
 * baseline and the bench waits a few demo-minutes (and for a `closed` incident, if one opened)
 * before the next run.
 *
 * Printed in demo-minutes, i.e. Google minutes: real elapsed × time scale / 60 000; p50 and max.
 * Each run's total (t0 → route safe) is split into four parts that add up to it:
 *
 *   Monitoring lag   t0 → the first canary 5xx point whose interval ends after t0 is visible in
 *                    the Monitoring stand-in's store (polled every 20 ms real). Measured, not
 *                    configured: the rest of the sampling period that holds t0, the recorder's
 *                    flush, and that point's drawn ingestion delay.
 *   detection wait   that moment → the moment the rollback was triggered: for an alert, when the
 *                    evaluator published the `open` incident (polled, 20 ms real; the policy's
 *                    30 s duration and the evaluation cadence); for the analysis, when the
 *                    failing verdict was recorded (the window judged once both backends' points
 *                    for it were visible, at the latest 180 s after its end: any further windows
 *                    the judge needed, and the wait for the slower of the two points).
 *   operation        the rollback's route operation, createTime → endTime, from the stand-in's
 *                    operations.list.
 *   controller       the rest: trigger → operation created, and operation done → route seen
 *                    safe (the latter ≈ 0). Its work (Pub/Sub, Firestore, HTTP) is NOT slowed by
 *                    the time scale, so × time scale overstates it; it is also printed in real ms.
 *
 * JSON (--json) also carries, per run, the simpler configured figure: end of the sampling
 * period holding t0 − t0 + the rollout's configured ingestion delay.
 */
import { parseArgs } from 'node:util';
import { createFirestore } from '../functions/adapters/firestore-client.ts';
import { FirestoreRolloutStore } from '../functions/adapters/firestore-store.ts';
import { isTerminal, type Rollout } from '../functions/core/state.ts';
import { TOPICS } from '../functions/manifest.ts';
import { DEFAULT_BASELINE, type LocalCloud, startLocalCloud } from '../local/cloud.ts';
import { type LocalController, startControllerOn } from '../local/controller.ts';
import type { DemoApp } from '../local/demo-apps.ts';
import { startLoad } from '../local/mesh/load.ts';
import { REQUEST_COUNT } from '../local/monitoring/cloud-run-series.ts';
import type { OperationJson } from '../local/network-services/operations.ts';
import { formatTable, quantile } from './analysis/table.ts';

process.env['METADATA_SERVER_DETECTION'] ??= 'none';
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'time-scale': { type: 'string', default: '60' },
    paths: { type: 'string', default: 'analysis,alert' },
    json: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const timeScale = Number(values['time-scale']);
const paths = values.paths.split(',').map((p) => p.trim());
if (!Number.isInteger(runs) || runs < 1)
  throw new Error(`--runs must be a positive integer, got ${values.runs}`);
if (!(timeScale >= 1)) throw new Error(`--time-scale must be ≥ 1, got ${values['time-scale']}`);
for (const p of paths) {
  if (p !== 'analysis' && p !== 'alert') throw new Error(`--paths takes analysis and/or alert, got ${p}`);
}
const log = (line: string) => {
  if (!values.json) process.stderr.write(`${line}\n`);
};
/** Real ms for a duration in demo (Google) minutes, and back. */
const realMsOf = (demoMinutes: number) => (demoMinutes * 60_000) / timeScale;
const demoMinutes = (realMs: number) => (realMs * timeScale) / 60_000;
const BAD_ERROR_RATIO = 0.5;
const RPS = 80;
const POLL_MS = 20;

type Path = 'analysis' | 'alert';

interface Sample {
  readonly path: Path;
  readonly run: number;
  readonly rolloutId: string;
  readonly cause: string;
  /** All in real ms. */
  readonly totalMs: number;
  readonly monitoringMs: number;
  readonly detectionMs: number;
  readonly operationMs: number;
  readonly controllerMs: number;
  /** End of the sampling period holding t0 − t0 + the rollout's configured ingestion delay. */
  readonly configuredMonitoringMs: number;
  /** t0 → the evaluator published an open incident (before the route was safe), whoever won; else null. */
  readonly incidentMs: number | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function bench(path: Path): Promise<Sample[]> {
  const cloud = await startLocalCloud({
    timeScale,
    apps: ['checkout'],
    ...(path === 'analysis' ? { alerts: false as const } : {}),
  });
  try {
    const app = cloud.apps[0];
    if (!app) throw new Error('no app');
    if (path === 'alert' && cloud.alerting === null)
      throw new Error('the local cloud started no alert policy');
    const controller = await startControllerOn(cloud);
    const db = createFirestore({ projectId: cloud.project, emulatorHost: cloud.firestoreHost });
    const load = startLoad({ url: cloud.mesh.url, host: app.hostname, rps: RPS, concurrency: 16 });
    try {
      const store = new FirestoreRolloutStore(db);
      const samples: Sample[] = [];
      for (let run = 1; run <= runs; run += 1) {
        const sample = await once({ cloud, app, store, controller }, path, run);
        samples.push(sample);
        log(
          `${path} run ${run}: ${demoMinutes(sample.totalMs).toFixed(2)} demo-min by ${sample.cause} ` +
            `(Monitoring ${demoMinutes(sample.monitoringMs).toFixed(2)}, detection ${demoMinutes(sample.detectionMs).toFixed(2)}, ` +
            `operation ${demoMinutes(sample.operationMs).toFixed(2)}, controller ${demoMinutes(sample.controllerMs).toFixed(2)} = ${Math.round(sample.controllerMs)} ms real` +
            `${sample.incidentMs === null ? '' : `; incident published at ${demoMinutes(sample.incidentMs).toFixed(2)}`})`,
        );
      }
      return samples;
    } finally {
      await load.stop();
      await db.terminate();
      await controller.stop();
    }
  } finally {
    await cloud.stop();
  }
}

async function waitFor(
  store: FirestoreRolloutStore,
  id: string,
  done: (r: Rollout) => boolean,
  what: string,
  demoMinutesAtMost = 60,
): Promise<Rollout> {
  const deadline = Date.now() + realMsOf(demoMinutesAtMost);
  let last: Rollout | null = null;
  while (Date.now() < deadline) {
    last = await store.get(id);
    if (last !== null && done(last)) return last;
    await sleep(POLL_MS);
  }
  throw new Error(
    `rollout ${id}: ${what} not reached in ${demoMinutesAtMost} demo-minutes; last: ${JSON.stringify(last?.status ?? null)}`,
  );
}

/** Whether the store shows a canary 5xx point whose interval ends after `t0` (ms). */
function badPointVisible(cloud: LocalCloud, app: DemoApp, t0: number): boolean {
  const after = BigInt(t0) * 1_000_000n;
  return cloud.monitoring.store
    .series(cloud.project, REQUEST_COUNT)
    .some(
      (s) =>
        s.resource.labels['service_name'] === app.canaryService &&
        s.metric.labels['response_code_class'] === '5xx' &&
        s.points.some((p) => p.end > after),
    );
}

/** The first route write on the app's route created at or after `since` that completed. */
function firstOperationAfter(cloud: LocalCloud, app: DemoApp, since: number) {
  const page = cloud.networkServices.store.service.listOperations(
    { project: cloud.project, location: 'global' },
    '1000',
    null,
  );
  const operations = (page['operations'] ?? []) as OperationJson[];
  return (
    operations
      .filter((o) => o.done && o.response !== undefined && o.metadata['target'] === app.route)
      .map((o) => ({
        createdAt: Date.parse(String(o.metadata['createTime'])),
        endedAt: Date.parse(String(o.metadata['endTime'])),
      }))
      .filter((t) => t.createdAt >= since)
      .sort((a, b) => a.endedAt - b.endedAt)[0] ?? null
  );
}

interface Incident {
  readonly incident_id?: string;
  readonly state?: string;
}
const incidentOf = (message: Record<string, unknown>): Incident => (message['incident'] ?? {}) as Incident;

interface Stack {
  readonly cloud: LocalCloud;
  readonly app: DemoApp;
  readonly store: FirestoreRolloutStore;
  readonly controller: LocalController;
}

async function once({ cloud, app, store, controller }: Stack, path: Path, run: number): Promise<Sample> {
  const routes = cloud.networkServices.store;
  const canary = cloud.backends.get(app.canaryService);
  if (!canary) throw new Error(`no backend ${app.canaryService}`);
  const id = `canary-${path}-${Date.now().toString(36)}-${run}`;
  await controller.publish(TOPICS.requests, {
    rolloutId: id,
    route: app.route,
    stable: app.stable,
    canary: app.canary,
    steps: [{ weight: 20, hold: '30m' }],
  });
  await waitFor(
    store,
    id,
    (r) => r.status.phase === 'Progressing' && r.weights.canary === 20 && r.intent === null,
    'the 20% step live',
  );
  const before = await waitFor(store, id, (r) => r.analysis.windowsJudged >= 1, 'one window judged');
  if (before.status.phase !== 'Progressing') throw new Error(`run ${run}: ${id} is ${before.status.phase}`);

  const stableOnly = () =>
    JSON.stringify(routes.route(app.route)?.rules?.[1]?.action?.destinations) ===
    JSON.stringify([{ serviceName: app.stable }]);
  let safeAt: number | null = null;
  const unsubscribe = routes.subscribe(() => {
    if (safeAt === null && stableOnly()) safeAt = Date.now();
  });
  const publishedBefore = cloud.alerting?.published.length ?? 0;
  const t0 = Date.now();
  canary.setBehaviour({ errorRatio: BAD_ERROR_RATIO });
  let visibleAt: number | null = null;
  let incidentAt: number | null = null;
  const deadline = t0 + realMsOf(60);
  while (safeAt === null) {
    if (Date.now() > deadline) {
      unsubscribe();
      throw new Error(`run ${run}: the route was not safe 60 demo-minutes after the canary turned bad`);
    }
    if (visibleAt === null && badPointVisible(cloud, app, t0)) visibleAt = Date.now();
    if (
      incidentAt === null &&
      cloud.alerting?.published.slice(publishedBefore).some((n) => incidentOf(n.message).state === 'open')
    ) {
      incidentAt = Date.now();
    }
    await sleep(POLL_MS);
  }
  unsubscribe();
  const safe: number = safeAt;

  const done = await waitFor(store, id, (r) => isTerminal(r.status.phase), 'the end');
  canary.setBehaviour({ errorRatio: DEFAULT_BASELINE.errorRatio ?? 0 });
  if (done.status.phase !== 'RolledBack') throw new Error(`run ${run}: ${id} ended ${done.status.phase}`);
  const cause = done.status.cause.kind;
  const history = await store.history(id);
  const rollingBack = history.find((h) => h.event === 'rollout.rolling_back');
  const operation = firstOperationAfter(cloud, app, t0);
  if (operation === null) throw new Error(`run ${run}: no completed route operation after t0`);

  const { ingestionDelayMs, samplingPeriodMs } = done.plan.analysis;
  let triggerAt: number;
  if (cause === 'verdict') {
    if (!rollingBack?.verdict) throw new Error(`run ${run}: rolled back by a verdict without one in history`);
    // The verdict was recorded as soon as the failing window's points were visible (the
    // ingestion frontier), at the latest its end + the configured ingestion delay.
    triggerAt = rollingBack.at;
  } else if (cause === 'alert') {
    // Published by the evaluator; if the poll missed it (published before the loop looked), the
    // controller's record of it is the next best moment.
    triggerAt = incidentAt ?? done.lastAlert?.at ?? Number.NaN;
  } else {
    throw new Error(`run ${run}: rolled back by ${cause}`);
  }
  const seenAt = visibleAt ?? Number.NaN;
  const operationMs = operation.endedAt - operation.createdAt;
  const periodEnd = Math.ceil((t0 + 1) / samplingPeriodMs) * samplingPeriodMs;

  // Let late points of this run arrive and an open incident close before the next run.
  const opened = cloud.alerting?.published
    .slice(publishedBefore)
    .find((n) => incidentOf(n.message).state === 'open');
  const openedId = opened ? incidentOf(opened.message).incident_id : undefined;
  const closeBy = Date.now() + realMsOf(15);
  while (
    openedId !== undefined &&
    Date.now() < closeBy &&
    !cloud.alerting?.published.some(
      (n) => incidentOf(n.message).incident_id === openedId && incidentOf(n.message).state === 'closed',
    )
  ) {
    await sleep(POLL_MS * 5);
  }
  await sleep(realMsOf(4));

  return {
    path,
    run,
    rolloutId: id,
    cause,
    totalMs: safe - t0,
    monitoringMs: seenAt - t0,
    detectionMs: triggerAt - seenAt,
    operationMs,
    controllerMs: operation.createdAt - triggerAt + (safe - operation.endedAt),
    configuredMonitoringMs: periodEnd - t0 + ingestionDelayMs,
    incidentMs: incidentAt === null ? null : incidentAt - t0,
  };
}

interface Figures {
  readonly p50: number;
  readonly max: number;
}
/** p50 and max of real-ms samples, in demo-minutes (or real ms with `unit`). */
function figures(xs: readonly number[], unit: (ms: number) => number = demoMinutes): Figures {
  const sorted = xs.map(unit).sort((a, b) => a - b);
  const round = (x: number) => Number(x.toFixed(3));
  return { p50: round(quantile(sorted, 0.5)), max: round(sorted.at(-1) ?? Number.NaN) };
}

const all: Sample[] = [];
for (const path of paths as Path[]) all.push(...(await bench(path)));

const summary = (paths as Path[]).map((path) => {
  const samples = all.filter((s) => s.path === path);
  const causes = new Map<string, number>();
  for (const s of samples) causes.set(s.cause, (causes.get(s.cause) ?? 0) + 1);
  return {
    path,
    runs: samples.length,
    rolledBackBy: Object.fromEntries(causes),
    totalMin: figures(samples.map((s) => s.totalMs)),
    monitoringLagMin: figures(samples.map((s) => s.monitoringMs)),
    detectionWaitMin: figures(samples.map((s) => s.detectionMs)),
    operationMin: figures(samples.map((s) => s.operationMs)),
    controllerMin: figures(samples.map((s) => s.controllerMs)),
    controllerRealMs: figures(
      samples.map((s) => s.controllerMs),
      (ms) => ms,
    ),
    configuredMonitoringLagMin: figures(samples.map((s) => s.configuredMonitoringMs)),
    incidents: samples.filter((s) => s.incidentMs !== null).length,
    incidentMin: figures(samples.flatMap((s) => (s.incidentMs === null ? [] : [s.incidentMs]))),
  };
});

if (values.json) {
  process.stdout.write(
    `${JSON.stringify({
      timeScale,
      unit: 'summary: *Min in demo-minutes (real elapsed × time scale / 60 000), *RealMs in real ms; samples: real ms',
      rps: RPS,
      badErrorRatio: BAD_ERROR_RATIO,
      summary,
      samples: all,
    })}\n`,
  );
} else {
  const cell = (f: Figures) => `${f.p50.toFixed(2)} / ${f.max.toFixed(2)}`;
  process.stdout.write(
    `Canary turns bad (errorRatio ${BAD_ERROR_RATIO}, ${RPS} rps, 20% canary) → route 100 % stable; Google's timing, time scale ${timeScale}.\n` +
      `demo-minutes (= Google minutes: real elapsed × ${timeScale} / 60 000), each cell p50 / max; the four parts add up to the total per run.\n`,
  );
  process.stdout.write(
    `${formatTable(
      [
        'path',
        'runs',
        'rolled back by',
        'total',
        'Monitoring lag',
        'detection wait',
        'operation',
        'controller',
        'controller (real ms)',
        'alert incident',
      ],
      summary.map((s) => [
        s.path,
        String(s.runs),
        Object.entries(s.rolledBackBy)
          .map(([cause, n]) => `${cause} ${n}`)
          .join(', '),
        cell(s.totalMin),
        cell(s.monitoringLagMin),
        cell(s.detectionWaitMin),
        cell(s.operationMin),
        cell(s.controllerMin),
        `${Math.round(s.controllerRealMs.p50)} / ${Math.round(s.controllerRealMs.max)}`,
        s.incidents === 0 ? '—' : `${cell(s.incidentMin)} (${s.incidents} runs)`,
      ]),
    )}\n`,
  );
  process.stdout.write(
    'Monitoring lag: t0 → first canary 5xx point of a period ending after t0 visible in the Monitoring store (measured).\n' +
      'detection wait: → alert incident published, or → failing verdict recorded (analysis).\n' +
      `controller: its own work does not scale with the time scale; × ${timeScale} overstates it (real ms beside it).\n` +
      'alert incident: t0 → the evaluator published an open incident before the route was safe (whichever path won).\n',
  );
}
process.exit(0);
