/**
 * The fan-out path for `npm run bench:tick`: one tick invocation (production handler and
 * runtime, in this process) hands every due rollout out on rollout-advance; advanceDue instances
 * (bench/tick/instance.ts, each its own process) take them in parallel. Timed from the tick's
 * start until every rollout is advanced (Pub/Sub may deliver a message more than once, so
 * deliveries are not what is counted); reads counted in the tick and in every instance.
 */
import { fileURLToPath } from 'node:url';
import { PubSub } from '@google-cloud/pubsub';
import { tickHandler } from '../../functions/handlers/tick.ts';
import { TOPICS } from '../../functions/manifest.ts';
import type { Runtime } from '../../functions/runtime.ts';
import type { ReadCounts } from '../../local/counting-store.ts';
import { type ManagedProcess, startProcess } from '../../local/processes.ts';
import { cloudEventOf } from '../../local/pubsub-delivery.ts';

const INSTANCE = fileURLToPath(new URL('./instance.ts', import.meta.url));
const SUBSCRIPTION = `${TOPICS.advance}-bench`;

interface InstanceCounts {
  readonly handled: number;
  readonly changes: number;
  readonly retried: number;
  readonly errors: number;
  readonly firstError: string | null;
  readonly duplicates: number;
  readonly conflicts: number;
  readonly reads: ReadCounts | null;
}

interface Instance {
  readonly proc: ManagedProcess;
  /** Rollout changes it stored so far. */
  changes: number;
  ready: Promise<void>;
  counts: Promise<InstanceCounts>;
}

export interface FanOutOptions {
  readonly project: string;
  readonly pubsubHost: string;
  readonly env: Readonly<Record<string, string>>;
  readonly instances: number;
  readonly inFlight: number;
  readonly expected: number;
}

export interface FanOutRun {
  readonly wallMs: number;
  readonly tickMs: number;
  readonly handled: number;
  readonly retried: number;
  readonly errors: number;
  readonly firstError: string | null;
  /** Deliveries the executor recognised as already handled (dedupe key), or decided again after a version conflict. */
  readonly duplicates: number;
  readonly conflicts: number;
  readonly reads: ReadCounts;
}

function startInstance(o: FanOutOptions): Instance {
  const proc = startProcess(process.execPath, [INSTANCE], {
    env: {
      ...process.env,
      ...o.env,
      PUBSUB_EMULATOR_HOST: o.pubsubHost,
      BENCH_SUBSCRIPTION: SUBSCRIPTION,
      BENCH_IN_FLIGHT: String(o.inFlight),
    },
  });
  let buffered = '';
  let ready = () => {};
  let counted = (_c: InstanceCounts) => {};
  const instance: Instance = {
    proc,
    changes: 0,
    ready: new Promise((resolve) => {
      ready = resolve;
    }),
    counts: new Promise((resolve) => {
      counted = resolve;
    }),
  };
  proc.child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      const report = JSON.parse(line) as { ready?: boolean; changes?: number; counts?: InstanceCounts };
      if (report.ready) ready();
      if (report.changes !== undefined) instance.changes = report.changes;
      if (report.counts !== undefined) counted(report.counts);
    }
  });
  return instance;
}

/** Until the instances stored `expected` changes (one per rollout), or made no progress for a minute. */
async function untilAdvanced(instances: readonly Instance[], expected: number): Promise<void> {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const changes = instances.reduce((sum, i) => sum + i.changes, 0);
    if (changes >= expected) return;
    if (changes !== last) {
      last = changes;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > 60_000) {
      throw new Error(`advanceDue instances stalled at ${changes} of ${expected} advances`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const plus = (a: ReadCounts, b: ReadCounts | null): ReadCounts =>
  b === null ? a : { gets: a.gets + b.gets, queried: a.queried + b.queried, queries: a.queries + b.queries };

export async function runFanOut(
  o: FanOutOptions,
  rt: Runtime,
  tickReads: () => ReadCounts,
): Promise<FanOutRun> {
  const pubsub = new PubSub({ projectId: o.project, apiEndpoint: o.pubsubHost });
  // 600 s, as the push subscriptions (infra/pubsub.tf): a message pulled but still waiting for a
  // free slot in an instance is not redelivered meanwhile.
  await pubsub.topic(TOPICS.advance).createSubscription(SUBSCRIPTION, { ackDeadlineSeconds: 600 });
  const instances = Array.from({ length: o.instances }, () => startInstance(o));
  try {
    await Promise.all(instances.map((i) => i.ready));
    const started = performance.now();
    await tickHandler(rt)(
      cloudEventOf(
        {
          id: 'bench-tick',
          data: Buffer.from('{"source":"bench"}'),
          attributes: {},
          publishTime: new Date(),
        },
        o.project,
        TOPICS.tick,
      ),
    );
    const tickMs = performance.now() - started;
    await untilAdvanced(instances, o.expected);
    const wallMs = performance.now() - started;
    await Promise.all(instances.map((i) => i.proc.stop()));
    const counts = await Promise.all(instances.map((i) => i.counts));
    return {
      wallMs,
      tickMs,
      handled: counts.reduce((s, c) => s + c.handled, 0),
      retried: counts.reduce((s, c) => s + c.retried, 0),
      errors: counts.reduce((s, c) => s + c.errors, 0),
      firstError: counts.find((c) => c.firstError !== null)?.firstError ?? null,
      duplicates: counts.reduce((s, c) => s + c.duplicates, 0),
      conflicts: counts.reduce((s, c) => s + c.conflicts, 0),
      reads: counts.reduce((sum, c) => plus(sum, c.reads), tickReads()),
    };
  } finally {
    await Promise.all(instances.map((i) => i.proc.stop()));
    await pubsub.close();
  }
}
