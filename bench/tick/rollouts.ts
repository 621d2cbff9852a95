/**
 * The benchmark's rollouts: N scheduler-driven rollouts, each due now and starting at a manual
 * gate, created through the production FirestoreRolloutStore (rollout, first history entry and
 * route lock in one commit). Advancing one is a real state change through the core and the
 * Firestore adapter with no route or Monitoring call: Pending → Paused at the gate (version 2,
 * one history entry, one lifecycle event), after which it is no longer due.
 */
import type { Firestore, Query } from '@google-cloud/firestore';
import { createRollout } from '../../functions/core/create.ts';
import { validateRolloutRequest } from '../../functions/core/request.ts';
import { ALL_STABLE } from '../../functions/core/weights.ts';
import type { RolloutStore } from '../../functions/ports/rollout-store.ts';

export const rolloutId = (i: number): string => `bench-${String(i).padStart(6, '0')}`;

function newRollout(project: string, i: number, now: number) {
  const id = rolloutId(i);
  const parsed = validateRolloutRequest({
    rolloutId: id,
    route: `projects/${project}/locations/global/httpRoutes/${id}`,
    stable: `projects/${project}/locations/global/backendServices/${id}-stable`,
    canary: `projects/${project}/locations/global/backendServices/${id}-canary`,
    driver: 'scheduler',
    steps: [
      { gate: 'manual', note: 'bench: look before traffic moves' },
      { weight: 50, hold: '2m' },
    ],
  });
  if (!parsed.ok) throw new Error(`bench request is invalid: ${JSON.stringify(parsed.issues)}`);
  return createRollout({
    id,
    request: parsed.value,
    context: {
      metrics: {
        stable: { preset: 'cloudRun', service: `${id}-stable` },
        canary: { preset: 'cloudRun', service: `${id}-canary` },
      },
      timing: { leaseMs: 120_000, retryBaseMs: 5_000, retryMaxMs: 300_000, maxRouteAttempts: 5 },
      timeScale: 1,
      stalledAfterMs: 900_000,
    },
    ruleIndex: 0,
    ruleShape: '{"action":{},"matches":[{"prefixMatch":"/"}]}',
    weights: ALL_STABLE,
    now,
    actor: 'bench',
  });
}

/** Creates `count` due rollouts, `parallel` commits at a time. */
export async function createDueRollouts(
  store: RolloutStore,
  project: string,
  count: number,
  now: number,
  parallel = 64,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next;
      next += 1;
      const { rollout, entry } = newRollout(project, i, now);
      await store.create(rollout, entry);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

export interface Outcome {
  /** Rollouts at the gate with exactly two versions: advanced once. */
  readonly once: number;
  /** Rollouts with a third version (a second advance). */
  readonly twice: number;
  /** Rollouts still at version 1. */
  readonly missed: number;
}

/** What became of the rollouts, from Firestore's own count aggregations (not through the store). */
export async function outcome(db: Firestore): Promise<Outcome> {
  const count = async (query: Query) => (await query.count().get()).data().count;
  const rollouts = db.collection('rollouts');
  const [once, twice, missed] = await Promise.all([
    count(rollouts.where('version', '==', 2).where('status.phase', '==', 'Paused')),
    count(db.collectionGroup('history').where('version', '>=', 3)),
    count(rollouts.where('version', '==', 1)),
  ]);
  return { once, twice, missed };
}

/** A few rollouts still at version 1, with their history and dedupe records, to say why. */
export async function describeMissed(db: Firestore, limit = 3): Promise<string[]> {
  const missed = await db.collection('rollouts').where('version', '==', 1).limit(limit).get();
  return Promise.all(
    missed.docs.map(async (doc) => {
      const history = await doc.ref.collection('history').get();
      const processed = await db.collection('processedMessages').doc(`advance:${doc.id}:1`).get();
      const entries = history.docs.map((h) => `${h.id}:${String(h.get('event'))}`).join(', ');
      return `${doc.id}: ${String(doc.get('status.phase'))} v${String(doc.get('version'))}; history ${entries}; advance:${doc.id}:1 ${processed.exists ? 'recorded' : 'not recorded'}`;
    }),
  );
}
