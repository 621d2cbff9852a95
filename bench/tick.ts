/**
 * The tick at scale: N due rollouts on Google's Firestore and Pub/Sub emulators, advanced
 *   1. through the fan-out — one tick invocation publishes one message per due rollout on
 *      rollout-advance, advanceDue instances (separate processes) advance them in parallel — and
 *   2. by today's single-invocation tick before the fan-out — a page of TICK_BATCH (500) per
 *      invocation advanced by the tick itself, 8 at a time, each rollout read again by the
 *      executor — as many invocations back to back as it needs,
 * over the same number of rollouts (each Pending → paused at its first step, a manual gate: one
 * real transition through the core and the production Firestore adapter, no route or Monitoring
 * call). Prints wall time, advances/s and Firestore documents read per advance (counted by a
 * decorator around the production store), checks that none was advanced twice or missed, and
 * PASS/FAIL for the targets.
 *
 *   npm run bench:tick [-- --rollouts 10000] [--instances 2] [--in-flight 16] [--page N] [--json]
 *
 * --instances: advanceDue processes; --in-flight: messages each handles at once; --page: the
 * fan-out tick's TICK_BATCH (default: the configuration's). The emulator's push subscriptions
 * deliver at most two messages at a time, so instances pull (bench/tick/instance.ts).
 */
import { parseArgs } from 'node:util';
import { PubSub } from '@google-cloud/pubsub';
import { createFirestore } from '../functions/adapters/firestore-client.ts';
import { loadConfig } from '../functions/app/config.ts';
import { createLogger } from '../functions/app/log.ts';
import { TOPICS } from '../functions/manifest.ts';
import type { Runtime } from '../functions/runtime.ts';
import { createRuntime } from '../functions/wiring.ts';
import { CountingStore, type ReadCounts } from '../local/counting-store.ts';
import { clearFirestore, type Emulator, startEmulator } from '../local/emulators.ts';
import { formatTable } from './analysis/table.ts';
import { runFanOut } from './tick/fan-out.ts';
import { createDueRollouts, describeMissed, type Outcome, outcome } from './tick/rollouts.ts';
import { OLD_TICK_CONCURRENCY, singleInvocationTicks } from './tick/single-invocation.ts';

process.env['METADATA_SERVER_DETECTION'] ??= 'none';
const { values } = parseArgs({
  options: {
    rollouts: { type: 'string', default: '10000' },
    instances: { type: 'string', default: '2' },
    'in-flight': { type: 'string', default: '16' },
    page: { type: 'string', default: '' },
    json: { type: 'boolean', default: false },
  },
});
const count = Number(values.rollouts);
const instances = Number(values.instances);
const inFlight = Number(values['in-flight']);
for (const [name, value] of [
  ['--rollouts', count],
  ['--instances', instances],
  ['--in-flight', inFlight],
] as const) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
}
/** Today's tick read (and advanced) at most this many due rollouts per invocation. */
const BATCH = 500;
/** The fan-out tick's page size: TICK_BATCH's default unless --page says otherwise. */
const page = values.page === '' ? null : Number(values.page);
const progress = (line: string) => {
  if (!values.json) process.stderr.write(`${line}\n`);
};

interface PathResult {
  readonly path: string;
  readonly invocations: string;
  readonly wallMs: number;
  readonly reads: ReadCounts;
  readonly outcome: Outcome;
  readonly note: string;
}

const envFor = (project: string, firestoreHost: string, batch: number | null): Record<string, string> => ({
  GOOGLE_CLOUD_PROJECT: project,
  ALLOWED_ROUTES: `projects/${project}/locations/global/httpRoutes/*`,
  FIRESTORE_EMULATOR_HOST: firestoreHost,
  ...(batch === null ? {} : { TICK_BATCH: String(batch) }),
});

function runtimeOn(env: Record<string, string>): { rt: Runtime; counting: () => CountingStore } {
  let counting: CountingStore | null = null;
  // The tick's own summary line, and anything that goes wrong, are shown; the rest is dropped.
  const quiet = createLogger({}, (line) => {
    const entry = JSON.parse(line) as { severity?: string; message?: string };
    if (entry.message?.startsWith('tick handed out') || entry.severity === 'ERROR') progress(line);
  });
  const rt = createRuntime(loadConfig(env), quiet, (store) => {
    counting = new CountingStore(store);
    return counting;
  });
  return {
    rt,
    counting: () => {
      if (counting === null) throw new Error('no store');
      return counting;
    },
  };
}

async function prepare(project: string, hosts: Hosts, batch: number | null) {
  const env = envFor(project, hosts.firestore, batch);
  const { rt, counting } = runtimeOn(env);
  const started = performance.now();
  await createDueRollouts(rt.store, project, count, Date.now() - 1000);
  progress(
    `${project}: ${count} due rollouts created in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  counting().reset();
  return { env, rt, counting };
}

interface Hosts {
  readonly firestore: string;
  readonly pubsub: string;
}

async function fanOutPath(hosts: Hosts): Promise<PathResult & { tickMs: number; errors: number }> {
  const project = 'bench-tick-fanout';
  const pubsub = new PubSub({
    projectId: project,
    apiEndpoint: hosts.pubsub,
  });
  for (const topic of [TOPICS.advance, TOPICS.events]) await pubsub.createTopic(topic);
  await pubsub.close();
  const { env, rt, counting } = await prepare(project, hosts, page);
  const run = await runFanOut(
    { project, pubsubHost: hosts.pubsub, env, instances, inFlight, expected: count },
    rt,
    () => counting().counts,
  );
  if (run.firstError !== null) progress(`fan-out: ${run.errors} errors/warnings, first: ${run.firstError}`);
  return {
    path: 'fan-out (tick → rollout-advance → advanceDue)',
    invocations: `1 tick + ${run.handled} advanceDue`,
    wallMs: run.wallMs,
    reads: run.reads,
    outcome: await outcomeOf(project, hosts),
    note:
      `pages of ${rt.config.tick.batch}; ${instances} instances × ${inFlight} in flight; the tick took ${(run.tickMs / 1000).toFixed(1)} s; ` +
      `${run.handled} deliveries: ${run.retried} asked for redelivery, ${run.duplicates} recognised as handled, ${run.conflicts} version conflicts`,
    tickMs: run.tickMs,
    errors: run.errors,
  };
}

async function singlePath(hosts: Hosts): Promise<PathResult> {
  const project = 'bench-tick-single';
  const pubsub = new PubSub({
    projectId: project,
    apiEndpoint: hosts.pubsub,
  });
  await pubsub.createTopic(TOPICS.events);
  await pubsub.close();
  const { rt, counting } = await prepare(project, hosts, BATCH);
  const started = performance.now();
  const run = await singleInvocationTicks(rt, BATCH);
  const wallMs = performance.now() - started;
  return {
    path: 'single-invocation tick (before)',
    invocations: `${run.invocations} tick`,
    wallMs,
    reads: counting().counts,
    outcome: await outcomeOf(project, hosts),
    note: `${BATCH} per invocation, ${OLD_TICK_CONCURRENCY} at a time, back to back; ${run.failed} failed`,
  };
}

async function outcomeOf(project: string, hosts: Hosts): Promise<Outcome> {
  const db = createFirestore({ projectId: project, emulatorHost: hosts.firestore });
  try {
    const result = await outcome(db);
    if (result.missed > 0)
      for (const line of await describeMissed(db)) progress(`${project}: missed ${line}`);
    return result;
  } finally {
    await db.terminate();
  }
}

const started: Emulator[] = [];
try {
  const [firestore, pubsub] = await Promise.all([startEmulator('firestore'), startEmulator('pubsub')]);
  started.push(firestore, pubsub);
  process.env['PUBSUB_EMULATOR_HOST'] = pubsub.host;
  const hosts = { firestore: firestore.host, pubsub: pubsub.host };
  progress(`emulators: Firestore ${firestore.host}, Pub/Sub ${pubsub.host}`);
  const fanOut = await fanOutPath(hosts);
  await clearFirestore(hosts.firestore, 'bench-tick-fanout');
  const single = await singlePath(hosts);
  report(fanOut, single);
} finally {
  await Promise.all(started.map((e) => e.stop()));
}
process.exit(0);

function report(fanOut: PathResult, single: PathResult): void {
  const rate = (r: PathResult) => r.outcome.once / (r.wallMs / 1000);
  const perAdvance = (r: PathResult) => (r.reads.gets + r.reads.queried) / Math.max(1, r.outcome.once);
  const speedup = rate(fanOut) / rate(single);
  const exact = [fanOut, single].every(
    (r) => r.outcome.twice === 0 && r.outcome.missed === 0 && r.outcome.once === count,
  );
  const targets = [
    {
      target: 'none advanced twice or missed',
      pass: exact,
      detail: [fanOut, single]
        .map((r) => `${r.outcome.once} once, ${r.outcome.twice} twice, ${r.outcome.missed} missed`)
        .join(' / '),
    },
    {
      target: '1 document read per advance (fan-out)',
      pass: perAdvance(fanOut) < 1.005,
      detail: `${perAdvance(fanOut).toFixed(4)} (single-invocation tick: ${perAdvance(single).toFixed(4)})`,
    },
    {
      target: 'advances/s ≥ 3× the single-invocation tick’s',
      pass: speedup >= 3,
      detail: `${speedup.toFixed(2)}×`,
    },
  ];
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ rollouts: count, instances, inFlight, fanOut, single, targets })}\n`,
    );
    return;
  }
  process.stdout.write(
    `bench:tick — ${count.toLocaleString('en')} due rollouts (each Pending → paused at a manual gate: one transition, one commit), ` +
      'Firestore + Pub/Sub emulators on this machine\n\n',
  );
  process.stdout.write(
    `${formatTable(
      [
        'path',
        'invocations',
        'wall',
        'advances/s',
        'doc reads/advance',
        'queries',
        'once',
        'twice',
        'missed',
      ],
      [fanOut, single].map((r) => [
        r.path,
        r.invocations,
        `${(r.wallMs / 1000).toFixed(1)} s`,
        rate(r).toFixed(0),
        perAdvance(r).toFixed(4),
        String(r.reads.queries),
        String(r.outcome.once),
        String(r.outcome.twice),
        String(r.outcome.missed),
      ]),
    )}\n\n`,
  );
  for (const r of [fanOut, single]) process.stdout.write(`${r.path}: ${r.note}\n`);
  process.stdout.write(
    `In production the single-invocation tick ran once a minute: at most ${BATCH} advances a minute ` +
      `(${(BATCH / 60).toFixed(1)}/s), ${Math.ceil(count / BATCH)} minutes for ${count.toLocaleString('en')} rollouts.\n\n`,
  );
  for (const t of targets) process.stdout.write(`${t.pass ? 'PASS' : 'FAIL'}  ${t.target}: ${t.detail}\n`);
}
