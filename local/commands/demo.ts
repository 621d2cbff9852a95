/**
 * `npm run demo`: starts the local cloud and the controller, drives traffic through the mesh and
 * runs three rollouts side by side — a healthy release across an HTTPRoute and a GRPCRoute
 * (HTTP requests and gRPC calls), both routes promoted step by step as one once a smoke test
 * of the canary (a `check` hook) has passed at each step, a faulty canary
 * rolled back by analysis, and a canary that turns bad mid-rollout and is rolled back by its
 * Monitoring alert — showing live progress and a summary. Exit code 0 only if all three ended as
 * expected. Function logs go to .local/demo-functions.log; one HTML report per rollout to
 * .local/reports/<id>.html (their paths are printed at the end).
 *
 *   options: --time-scale N (default 12), --rps N per application (default 60), --timeout S (default 240)
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createFirestore } from '../../functions/adapters/firestore-client.ts';
import { FirestoreRolloutStore } from '../../functions/adapters/firestore-store.ts';
import type { RolloutRequestInput } from '../../functions/core/request.ts';
import { isTerminal, type Rollout } from '../../functions/core/state.ts';
import { TOPICS } from '../../functions/manifest.ts';
import { startLocalCloud } from '../cloud.ts';
import { startControllerOn } from '../controller.ts';
import { type GrpcLoad, startGrpcDemoLoad } from '../demo/grpc-load.ts';
import { describeReports, writeDemoReports } from '../demo/reports.ts';
import { SCENARIOS } from '../demo/scenarios.ts';
import {
  type BackendTraffic,
  bold,
  dim,
  green,
  red,
  renderRollout,
  renderSummary,
  type SummaryRow,
} from '../demo/view.ts';
import { type SmokeTestService, startSmokeTest } from '../hooks/smoke-test.ts';
import type { DemoBackend } from '../mesh/demo-backend.ts';
import type { GrpcDemoBackend } from '../mesh/demo-grpc-backend.ts';
import { type LoadRun, startLoad } from '../mesh/load.ts';

process.env['METADATA_SERVER_DETECTION'] ??= 'none';
const { values } = parseArgs({
  options: {
    'time-scale': { type: 'string', default: '12' },
    rps: { type: 'string', default: '60' },
    timeout: { type: 'string', default: '240' },
  },
});
const timeScale = Number(values['time-scale']);
const rps = Number(values.rps);
const timeoutMs = Number(values.timeout) * 1000;
const out = (text: string) => process.stdout.write(text);

const logDir = new URL('../../.local/', import.meta.url).pathname;
mkdirSync(logDir, { recursive: true });
const functionLog = createWriteStream(`${logDir}demo-functions.log`);

const started = Date.now();
out(
  `${bold('Canary controller demo')} — local cloud at time scale ${timeScale} (1 minute of rollout time = ${(60 / timeScale).toFixed(1)} s)\n`,
);
out(
  dim(
    'starting Firestore and Pub/Sub emulators, Network Services, Monitoring, mesh, backends, functions, workflows…\n',
  ),
);

const cloud = await startLocalCloud({
  timeScale,
  apps: SCENARIOS.map((s) => s.app),
  alerts: Object.fromEntries(SCENARIOS.map((s) => [s.app, s.alertThreshold])),
  protocols: SCENARIOS.some((s) => s.grpc),
});
const controller = await startControllerOn(cloud, {
  onLog: (name, line) => functionLog.write(`[${name}] ${line}\n`),
});
const db = createFirestore({ projectId: cloud.project, emulatorHost: cloud.firestoreHost });
const store = new FirestoreRolloutStore(db);
out(
  dim(
    `stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s; sending ${rps} requests/s to each application\n\n`,
  ),
);

const runId = Date.now().toString(36);
const loads: LoadRun[] = [];
const grpcLoads: GrpcLoad[] = [];
const smokeTests: SmokeTestService[] = [];
interface LiveRollout {
  readonly scenario: (typeof SCENARIOS)[number];
  readonly stable: DemoBackend;
  readonly canary: DemoBackend;
  readonly id: string;
  readonly request: RolloutRequestInput;
  readonly smoke: SmokeTestService | null;
  /** The gRPC side's backends, when the release also moves the GRPCRoute. */
  readonly grpc: { readonly stable: GrpcDemoBackend; readonly canary: GrpcDemoBackend } | null;
  rollout: Rollout | null;
  note: string | null;
  startedAt: number;
  endedAt: number;
  turnedBad: boolean;
}
const live: LiveRollout[] = [];
for (const scenario of SCENARIOS) {
  const app = cloud.apps.find((a) => a.name === scenario.app);
  if (!app) throw new Error(`no demo app ${scenario.app}`);
  const smoke = scenario.smokeTest ? await startSmokeTest(cloud, app) : null;
  if (smoke) smokeTests.push(smoke);
  const stable = cloud.backends.get(app.stableService);
  const canary = cloud.backends.get(app.canaryService);
  if (!stable || !canary) throw new Error(`no backends for ${scenario.app}`);
  canary.setBehaviour({ errorRatio: scenario.canaryErrorRatio });
  loads.push(startLoad({ url: cloud.mesh.url, host: app.hostname, rps, concurrency: 16 }));
  const grpc = scenario.grpc ? cloud.protocols : null;
  const grpcSide = grpc === null ? null : grpc.apps.get(app.name);
  if (grpc && grpcSide) grpcLoads.push(startGrpcDemoLoad(grpc, grpcSide.grpcAuthority, rps / 2));
  const grpcStable = grpc?.grpcBackends.get(app.stableService) ?? null;
  const grpcCanary = grpc?.grpcBackends.get(app.canaryService) ?? null;
  grpcCanary?.setBehaviour({ errorRatio: scenario.canaryErrorRatio });
  const request = scenario.request(app, runId, smoke?.url ?? null);
  live.push({
    scenario,
    stable,
    canary,
    id: request.rolloutId ?? '',
    request,
    rollout: null,
    note: null,
    startedAt: 0,
    endedAt: 0,
    turnedBad: false,
    smoke,
    grpc: grpcStable && grpcCanary ? { stable: grpcStable, canary: grpcCanary } : null,
  });
}

const traffic = (b: { stats(): { total: number; '5xx': number } }): BackendTraffic => {
  const s = b.stats();
  return { requests: s.total, errors: s['5xx'] };
};
const calls = (b: GrpcDemoBackend): BackendTraffic => {
  const s = b.stats();
  return { requests: s.total, errors: s.total - (s.codes['OK'] ?? 0) };
};

for (const r of live) {
  r.stable.resetStats();
  r.canary.resetStats();
  r.startedAt = Date.now();
  await controller.publish(TOPICS.requests, r.request);
}

let drawn = 0;
const draw = () => {
  const lines = live.flatMap((r) =>
    renderRollout({
      scenario: r.scenario,
      rollout: r.rollout,
      stable: traffic(r.stable),
      canary: traffic(r.canary),
      note: r.note,
      smokeRuns: r.smoke?.runs.filter((run) => run.rolloutId === r.id) ?? null,
      grpc: r.grpc === null ? null : { stable: calls(r.grpc.stable), canary: calls(r.grpc.canary) },
    }),
  );
  if (process.stdout.isTTY && drawn > 0) out(`\u001b[${drawn}A\u001b[J`);
  out(`${lines.join('\n')}\n`);
  drawn = lines.length;
};

let lastPlain = 0;
const deadline = Date.now() + timeoutMs;
while (Date.now() < deadline) {
  for (const r of live) {
    if (r.rollout && isTerminal(r.rollout.status.phase)) continue;
    r.rollout = await store.get(r.id);
    const s = r.rollout?.status;
    const bad = r.scenario.turnsBad;
    if (
      bad &&
      !r.turnedBad &&
      s?.phase === 'Progressing' &&
      s.step >= bad.atStep - 1 &&
      r.rollout?.intent === null
    ) {
      r.canary.setBehaviour({ errorRatio: bad.errorRatio });
      r.grpc?.canary.setBehaviour({ errorRatio: bad.errorRatio });
      r.turnedBad = true;
      r.note = `canary now fails ${bad.errorRatio * 100}% of requests`;
    }
    if (r.rollout && isTerminal(r.rollout.status.phase) && r.endedAt === 0) r.endedAt = Date.now();
  }
  if (process.stdout.isTTY) draw();
  else if (Date.now() - lastPlain > 5000) {
    lastPlain = Date.now();
    draw();
    out('\n');
  }
  if (live.every((r) => r.rollout !== null && isTerminal(r.rollout.status.phase))) break;
  await new Promise((resolve) => setTimeout(resolve, 400));
}
draw();

const rows: SummaryRow[] = live.map((r) => {
  const s = r.rollout?.status;
  const phase = s?.phase ?? 'never accepted';
  const cause =
    s?.phase === 'RolledBack' ? s.cause.kind : s?.phase === 'Succeeded' ? 'all steps passed' : '—';
  const ok =
    phase === r.scenario.expected &&
    (r.scenario.expectedCause === null || cause === r.scenario.expectedCause);
  return {
    scenario: r.scenario,
    phase,
    cause: s?.phase === 'RolledBack' && s.cause.kind === 'alert' ? `alert ${s.cause.policy}` : cause,
    seconds: ((r.endedAt || Date.now()) - r.startedAt) / 1000,
    canary: traffic(r.canary),
    ok,
  };
});
const passed = rows.every((row) => row.ok);
out(`\n${renderSummary(rows)}\n\n`);
out(
  `${passed ? green('all three rollouts ended as expected') : red('some rollouts did not end as expected')} — ` +
    `demo took ${((Date.now() - started) / 1000).toFixed(1)} s; function logs: .local/demo-functions.log\n`,
);

// One HTML report per rollout (the builder `rolloutctl report` uses).
const reports = await writeDemoReports(
  store,
  live.map((r) => r.id),
  `${logDir}reports`,
);
out(`${describeReports(reports)}\n`);

await Promise.all([...loads.map((l) => l.stop()), ...grpcLoads.map((l) => l.stop())]);
await Promise.all(smokeTests.map((s) => s.close()));
await db.terminate();
await controller.stop();
await cloud.stop();
functionLog.end();
process.exit(passed ? 0 : 1);
