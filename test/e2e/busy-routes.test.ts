/**
 * Busy routes end to end, through Pub/Sub and the functions on the local cloud: 50 rollout
 * requests for one route at once with `whenRouteBusy: "queue"` run one after another in queue
 * order (each aborted by an operator as soon as it waits at its manual gate), 50 superseding
 * requests end whoever holds the route and leave one, and `reject` is unchanged.
 */
import type { Firestore } from '@google-cloud/firestore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFirestore } from '../../functions/adapters/firestore-client.ts';
import { isTerminal, type Rollout } from '../../functions/core/state.ts';
import { TOPICS } from '../../functions/manifest.ts';
import { type Stack, startStack } from '../support/stack.ts';

let stack: Stack;
let db: Firestore;

beforeAll(async () => {
  stack = await startStack({ project: 'e2e-busy-routes', apps: ['checkout', 'cart', 'search'] });
  db = createFirestore({ projectId: stack.cloud.project, emulatorHost: stack.cloud.firestoreHost });
});
afterAll(async () => {
  await db.terminate();
  await stack.stop();
});

/** Every rollout of the route, as one consistent query reads them. */
async function rolloutsOf(route: string): Promise<Rollout[]> {
  const snapshot = await db.collection('rollouts').where('spec.route', '==', route).get();
  return snapshot.docs.map((d) => d.data() as Rollout);
}

/** Holding the route: not finished and not waiting in its queue. */
function holding(r: Rollout): boolean {
  return !isTerminal(r.status.phase) && r.status.phase !== 'Queued';
}

const GATE = [
  { gate: 'manual' as const, note: 'the test aborts it here' },
  { weight: 10, hold: '1m' },
];

interface Watch {
  /** Most rollouts holding the route at once, over every observation. */
  maxHolding: number;
  /** Rollouts in the order they were first seen holding the route. */
  order: string[];
  observations: number;
}

/**
 * Watches the route until every expected rollout exists and all are terminal, aborting each one
 * as soon as it waits at its manual gate (so each holds the route only briefly) — once every
 * request has been accepted: on the emulator, 50 transactions on one lock take tens of seconds,
 * and a holder ended before the last of them commits would leave the route free for a latecomer
 * (which then rightly takes it as the first of a new queue).
 */
async function watchAndAbort(
  route: string,
  expected: number,
  timeoutMs: number,
): Promise<{ watch: Watch; all: Rollout[] }> {
  const watch: Watch = { maxHolding: 0, order: [], observations: 0 };
  const aborted = new Set<string>();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = await rolloutsOf(route);
    watch.observations += 1;
    const held = all.filter(holding);
    watch.maxHolding = Math.max(watch.maxHolding, held.length);
    for (const r of held) {
      if (!watch.order.includes(r.id)) watch.order.push(r.id);
      if (all.length === expected && r.status.phase === 'Paused' && !aborted.has(r.id)) {
        aborted.add(r.id);
        await stack.controller.publish(TOPICS.control, {
          rolloutId: r.id,
          command: 'abort',
          actor: 'e2e',
          reason: 'next',
        });
      }
    }
    if (all.length === expected && all.every((r) => isTerminal(r.status.phase))) return { watch, all };
    if (Date.now() > deadline) {
      const phases = all.map((r) => `${r.id}:${r.status.phase}`).join(' ');
      throw new Error(`not all ${expected} rollouts ended in time (${all.length} exist): ${phases}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

describe('busy routes', () => {
  it('50 queued requests for one route run one at a time, in queue order, and all end', async () => {
    const app = stack.app('checkout');
    const ids = Array.from({ length: 50 }, (_, i) => `queue-${String(i).padStart(2, '0')}`);
    await Promise.all(
      ids.map((rolloutId) =>
        stack.controller.publish(
          TOPICS.requests,
          stack.request(app, { rolloutId, whenRouteBusy: 'queue', steps: GATE }),
        ),
      ),
    );
    const { watch, all } = await watchAndAbort(app.route, 50, 360_000);
    expect(watch.maxHolding).toBe(1);
    expect(all.map((r) => r.id).sort()).toEqual(ids);
    expect(all.every((r) => r.status.phase === 'Aborted')).toBe(true);
    expect(watch.order).toHaveLength(50);
    // The queue order: the rollout that found the route free, then by arrival number.
    const histories = new Map(
      await Promise.all(ids.map(async (id) => [id, await stack.store.history(id)] as const)),
    );
    const firstVersion = (id: string) => histories.get(id)?.[0];
    const first = ids.filter((id) => firstVersion(id)?.event === 'rollout.created');
    expect(first).toHaveLength(1);
    const byArrival = all
      .filter((r) => !first.includes(r.id))
      .sort((a, b) => (a.queuedAs ?? 0) - (b.queuedAs ?? 0))
      .map((r) => r.id);
    expect(new Set(all.map((r) => r.queuedAs ?? null)).size).toBe(50);
    expect(watch.order).toEqual([...first, ...byArrival]);
    for (const id of byArrival) {
      const events = histories.get(id)?.map((h) => h.event) ?? [];
      expect(events.slice(0, 2)).toEqual(['rollout.queued', 'rollout.dequeued']);
    }
    // Each dequeued rollout got its workflow execution (started by whoever ended the one before it).
    expect(all.every((r) => r.driver.kind === 'workflow' && r.driver.execution !== null)).toBe(true);
    // The route is back on stable and free.
    expect((await stack.store.routeQueue(app.route)).holder).toBeNull();
  }, 420_000);

  it('50 superseding requests: one holds the route at a time, the superseded end, the newest is left', async () => {
    const app = stack.app('cart');
    await stack.controller.publish(TOPICS.requests, stack.request(app, { rolloutId: 'held', steps: GATE }));
    await stack.waitFor('held', (r) => r.status.phase === 'Paused');
    const ids = Array.from({ length: 50 }, (_, i) => `super-${String(i).padStart(2, '0')}`);
    const observing = observeHolding(app.route);
    await Promise.all(
      ids.map((rolloutId) =>
        stack.controller.publish(
          TOPICS.requests,
          stack.request(app, {
            rolloutId,
            whenRouteBusy: 'supersede',
            supersedeWith: 'rollback',
            steps: GATE,
          }),
        ),
      ),
    );
    const settled = async () => {
      const all = await rolloutsOf(app.route);
      return (
        all.length === 51 &&
        all.filter((r) => !isTerminal(r.status.phase)).length === 1 &&
        all.filter(holding).length === 1 &&
        all.find(holding)?.status.phase === 'Paused'
      );
    };
    const deadline = Date.now() + 300_000;
    while (!(await settled())) {
      if (Date.now() > deadline) throw new Error('superseding requests did not settle');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const maxHolding = await observing.stop();
    expect(maxHolding).toBe(1);
    const all = await rolloutsOf(app.route);
    const survivor = all.find(holding);
    const held = all.find((r) => r.id === 'held');
    expect(held?.status.phase).toBe('RolledBack');
    expect(held?.status.phase === 'RolledBack' && held.status.cause.kind).toBe('superseded');
    expect(held?.supersededBy).toBeTruthy();
    // Every other one ended and names the rollout that superseded it; none lost.
    for (const r of all.filter((x) => x.id !== survivor?.id)) {
      expect(isTerminal(r.status.phase)).toBe(true);
      expect(r.supersededBy).toBeTruthy();
    }
    const survivorHistory = await stack.store.history(survivor?.id ?? '');
    expect(survivorHistory[0]?.event).toBe('rollout.queued');
    expect(survivor?.supersedes).toBeTruthy();
    // The newest wins: the survivor is the superseder committed last.
    const newest = Math.max(...all.filter((r) => r.id.startsWith('super-')).map((r) => r.queuedAs ?? 0));
    expect(survivor?.queuedAs).toBe(newest);
    // Links both ways: the rollout the survivor superseded names it.
    expect(all.find((r) => r.id === survivor?.supersedes)?.supersededBy).toBe(survivor?.id);
    await stack.controller.publish(TOPICS.control, {
      rolloutId: survivor?.id,
      command: 'abort',
      actor: 'e2e',
      reason: 'done',
    });
    await stack.waitForTerminal(survivor?.id ?? '');
  }, 360_000);

  it('reject is unchanged: a second request for a busy route is refused and not stored', async () => {
    const app = stack.app('search');
    await stack.controller.publish(TOPICS.requests, stack.request(app, { rolloutId: 'first', steps: GATE }));
    await stack.waitFor('first', (r) => r.status.phase === 'Paused');
    await stack.controller.publish(TOPICS.requests, stack.request(app, { rolloutId: 'second', steps: GATE }));
    const deadline = Date.now() + 30_000;
    while (
      !stack.logs.some(
        (l) => l.fields['code'] === 'ROUTE_LOCKED' || /already has an active rollout/.test(l.message),
      )
    ) {
      if (Date.now() > deadline) throw new Error('the second request was not refused');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await stack.store.get('second')).toBeNull();
  });
});

/** Watches how many rollouts hold the route at once until stopped; returns the most seen. */
function observeHolding(route: string): { stop(): Promise<number> } {
  let running = true;
  let max = 0;
  const loop = (async () => {
    while (running) {
      max = Math.max(max, (await rolloutsOf(route)).filter(holding).length);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return max;
    },
  };
}
