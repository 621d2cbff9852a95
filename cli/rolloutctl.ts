/**
 * rolloutctl: the operator's command line.
 *
 *   rolloutctl validate -f request.json                 check a request with the controller's own schema
 *   rolloutctl start -f request.json                     publish it to rollout-requests
 *   rolloutctl pause|resume|promote|abort|retry ID --reason "…" [--actor you@example.com]
 *   rolloutctl abort ID --gradual [--hold 1m]            step the canary down through the plan's lower weights
 *   rolloutctl status ID                                 phase, weights and history (reads Firestore)
 *   rolloutctl list                                      active rollouts with every route of each
 *
 * Talks to Google Cloud with Application Default Credentials, or to the local cloud when
 * PUBSUB_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST are set (`source .local/env.sh`, written by
 * `npm run local` and `npm run dev`).
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { PubSub } from '@google-cloud/pubsub';
import { createFirestore } from '../functions/adapters/firestore-client.ts';
import { FirestoreRolloutStore } from '../functions/adapters/firestore-store.ts';
import { parseControl } from '../functions/app/control.ts';
import {
  activeRollouts,
  describeStanding,
  describeTarget,
  type QueueStanding,
  rolloutStatus,
  type TargetStatus,
} from '../functions/app/status.ts';
import { describeProgress } from '../functions/core/describe.ts';
import { parseRolloutRequest } from '../functions/core/request.ts';
import type { HistoryEntry, Rollout } from '../functions/core/state.ts';
import { routesOf, targetsOf } from '../functions/core/targets.ts';
import { describeIssues } from '../functions/core/validation.ts';
import { describeWeights } from '../functions/core/weights.ts';
import { RefusedError } from '../functions/errors.ts';
import { TOPICS } from '../functions/manifest.ts';

const USAGE = `usage:
  rolloutctl validate -f request.json
  rolloutctl start -f request.json
  rolloutctl pause|resume|promote|abort|retry ROLLOUT_ID [--reason TEXT] [--actor WHO]
             (abort --route R --canary C: acts even while Firestore is down)
             (abort --gradual [--hold 1m]: steps the canary down through the plan's
              lower weights, holding each once live, before taking it out)
  rolloutctl status ROLLOUT_ID
  rolloutctl list
options: --project P (default $GOOGLE_CLOUD_PROJECT)`;

class UsageError extends Error {}

function project(value: string | undefined): string {
  const p = value ?? process.env['GOOGLE_CLOUD_PROJECT'];
  if (!p) throw new UsageError('set --project or GOOGLE_CLOUD_PROJECT');
  return p;
}

function readRequest(file: string | undefined): string {
  if (!file) throw new UsageError('-f request.json is required');
  return readFileSync(file === '-' ? 0 : file, 'utf8');
}

async function publish(projectId: string, topic: string, data: unknown): Promise<string> {
  const pubsub = new PubSub({ projectId });
  try {
    return await pubsub.topic(topic).publishMessage({ json: data });
  } finally {
    await pubsub.close();
  }
}

function store(projectId: string): { store: FirestoreRolloutStore; close: () => Promise<void> } {
  const emulatorHost = process.env['FIRESTORE_EMULATOR_HOST'];
  const db = createFirestore({ projectId, ...(emulatorHost ? { emulatorHost } : {}) });
  return { store: new FirestoreRolloutStore(db), close: () => db.terminate() };
}

function printRollout(
  r: Rollout,
  history: readonly HistoryEntry[],
  targets: readonly TargetStatus[],
  queue?: QueueStanding,
): void {
  const s = r.status;
  const step =
    s.phase === 'Progressing' || s.phase === 'Paused'
      ? ` ${describeProgress(r.plan, s)}`
      : s.phase === 'Aborting'
        ? ` stepping down (${s.held === null ? `gradual abort by ${s.actor}` : `held by ${s.held.actor}`})`
        : '';
  console.log(`${r.id}  ${s.phase}${step}  ${describeWeights(r.weights)}  version ${r.version}`);
  for (const t of targets) console.log(`  route  ${describeTarget(t)}`);
  console.log(`  stable ${r.spec.stable}\n  canary ${r.spec.canary}`);
  for (const t of targetsOf(r.spec).filter((x) => x.stable !== r.spec.stable || x.canary !== r.spec.canary)) {
    console.log(`  ${t.route}: stable ${t.stable}, canary ${t.canary}`);
  }
  if (queue) console.log(`  queued: ${describeStanding(queue)}`);
  if (r.supersedes) console.log(`  supersedes ${r.supersedes}`);
  if (r.supersededBy) console.log(`  superseded by ${r.supersededBy}`);
  if (r.analysis.last) console.log(`  last verdict: ${r.analysis.last.verdict} — ${r.analysis.last.summary}`);
  for (const h of history) {
    console.log(
      `  v${String(h.version).padEnd(3)} ${new Date(h.at).toISOString()}  ${h.event.padEnd(24)} ${h.actor}: ${h.reason}`,
    );
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      file: { type: 'string', short: 'f' },
      project: { type: 'string' },
      reason: { type: 'string', default: '' },
      actor: { type: 'string' },
      route: { type: 'string' },
      canary: { type: 'string' },
      gradual: { type: 'boolean' },
      hold: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, id] = positionals;
  if (values.help || command === undefined) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  switch (command) {
    case 'validate':
    case 'start': {
      const parsed = parseRolloutRequest(readRequest(values.file));
      if (!parsed.ok) {
        console.error(`invalid request: ${describeIssues(parsed.issues)}`);
        return 1;
      }
      if (command === 'validate') {
        console.log(`valid: ${parsed.value.steps.length} steps on ${routesOf(parsed.value).join(', ')}`);
        return 0;
      }
      const messageId = await publish(project(values.project), TOPICS.requests, parsed.value);
      console.log(
        `published rollout request (message ${messageId})${parsed.value.rolloutId ? ` for ${parsed.value.rolloutId}` : ''}`,
      );
      return 0;
    }
    case 'pause':
    case 'resume':
    case 'promote':
    case 'abort':
    case 'retry': {
      const body = parseControl({
        rolloutId: id,
        command,
        actor: values.actor ?? userInfo().username,
        reason: values.reason,
        // An abort that names them takes the canary out even while Firestore is down.
        ...(values.route === undefined ? {} : { route: values.route }),
        ...(values.canary === undefined ? {} : { canary: values.canary }),
        ...(values.gradual === undefined ? {} : { gradual: values.gradual }),
        ...(values.hold === undefined ? {} : { hold: values.hold }),
      });
      const messageId = await publish(project(values.project), TOPICS.control, body);
      console.log(`published ${command} for ${body.rolloutId} (message ${messageId})`);
      return 0;
    }
    case 'status': {
      if (!id) throw new UsageError('status needs a rollout id');
      const s = store(project(values.project));
      try {
        const { rollout, history, targets, queue } = await rolloutStatus(s, { rolloutId: id });
        printRollout(rollout, history, targets, queue);
        return 0;
      } catch (error) {
        if (!(error instanceof RefusedError)) throw error;
        console.error(error.message);
        return 1;
      } finally {
        await s.close();
      }
    }
    case 'list': {
      const s = store(project(values.project));
      try {
        const { active } = await activeRollouts(s);
        if (active.length === 0) console.log('no active rollouts');
        for (const a of active) {
          console.log(`${a.rolloutId}  ${(a.routes ?? [a.route]).join(', ')}  canary ${a.canaryName}`);
        }
        return 0;
      } finally {
        await s.close();
      }
    }
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) console.error(`${error.message}\n${USAGE}`);
    else console.error(`rolloutctl: ${(error as Error).message}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
