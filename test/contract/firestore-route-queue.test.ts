/**
 * Busy routes on the Firestore emulator: queued and superseding requests, arrival order under
 * concurrency, and the hand-over of the route lock in the commit that ends its holder.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { FirestoreRolloutStore } from '../../functions/adapters/firestore-store.ts';
import type { Input } from '../../functions/core/inputs.ts';
import type { Rollout } from '../../functions/core/state.ts';
import { transition } from '../../functions/core/transition.ts';
import type { CommitOutcome } from '../../functions/ports/rollout-store.ts';
import { RouteLockedError } from '../../functions/ports/rollout-store.ts';
import { observed } from '../support/drive.ts';
import { testFirestore } from '../support/firestore.ts';
import { newRollout, routeName } from '../support/fixtures.ts';

const fs = testFirestore('route-queue-contract');
const store = new FirestoreRolloutStore(fs.db);
const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const ROUTE = routeName('checkout');

beforeEach(() => fs.clear());
afterAll(() => fs.close());

function request(id: string, whenRouteBusy: 'queue' | 'supersede' | 'reject', now = T0) {
  return newRollout(id, { whenRouteBusy }, now);
}

async function stored(id: string): Promise<Rollout> {
  const r = await store.get(id);
  if (r === null) throw new Error(`no rollout ${id}`);
  return r;
}

async function step(r: Rollout, input: Input, now: number): Promise<{ r: Rollout; outcome: CommitOutcome }> {
  const d = transition(r, input, now);
  if (d.kind !== 'changed') throw new Error(`expected a change, got: ${d.reason}`);
  return { r: d.rollout, outcome: await store.commit(d.rollout, d.entry) };
}

/** Ends the route's holder by an operator abort (rolling back, then confirmed): returns the last commit's outcome. */
async function abortHolder(id: string, now: number): Promise<CommitOutcome> {
  const abort: Input = { type: 'control', command: 'abort', actor: 'operator:test', note: 'next' };
  const rolling = await step(await stored(id), abort, now);
  const ended = await step(rolling.r, observed(rolling.r), now + 1);
  expect(ended.r.status.phase).toBe('Aborted');
  return ended.outcome;
}

async function lockHolder(): Promise<string | null> {
  return (await store.routeQueue(ROUTE)).holder;
}

async function waitingIds(): Promise<string[]> {
  return (await store.routeQueue(ROUTE)).waiting.map((w) => w.rolloutId);
}

describe('route queue on the Firestore emulator', () => {
  it('50 concurrent queue requests: one takes the route, 49 wait with distinct places in commit order', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => `q-${String(i).padStart(2, '0')}`);
    const outcomes = await Promise.all(
      ids.map((id) => store.create(request(id, 'queue').rollout, request(id, 'queue').entry)),
    );
    expect(outcomes.every((o) => o.kind === 'created')).toBe(true);
    const rollouts = await Promise.all(ids.map(stored));
    const active = rollouts.filter((r) => r.status.phase === 'Pending');
    const queued = rollouts.filter((r) => r.status.phase === 'Queued');
    expect(active).toHaveLength(1);
    expect(queued).toHaveLength(49);
    expect(await lockHolder()).toBe(active[0]?.id);
    const seqs = queued.map((r) => (r.status.phase === 'Queued' ? r.status.seq : -1));
    expect(new Set(seqs).size).toBe(49);
    const queue = await store.routeQueue(ROUTE);
    expect(queue.waiting.map((w) => w.position)).toEqual(Array.from({ length: 49 }, (_, i) => i + 1));
    // Order of the queue = order of the arrival numbers taken in the commits.
    const bySeq = [...queued].sort((a, b) => seqOf(a) - seqOf(b)).map((r) => r.id);
    expect(queue.waiting.map((w) => w.rolloutId)).toEqual(bySeq);
    for (const r of queued) {
      expect(r.nextActionAt).toBeNull();
      expect((await store.history(r.id)).map((h) => h.event)).toEqual(['rollout.queued']);
    }
    // The same request again is the same rollout: nothing is added to the queue.
    const again = request('q-07', 'queue');
    expect((await store.create(again.rollout, again.entry)).kind).toBe('exists');
    expect(await waitingIds()).toHaveLength(49);
    expect((await store.due(T0 + 60_000, 100)).items.map((r) => r.id)).toEqual([active[0]?.id]);
  });

  it('the commit that ends the holder hands the lock to the head of the queue, Pending and due at once', async () => {
    for (const [i, id] of ['a', 'b', 'c'].entries()) {
      const { rollout, entry } = request(id, 'queue', T0 + i);
      await store.create(rollout, entry);
    }
    expect(await waitingIds()).toEqual(['b', 'c']);
    const outcome = await abortHolder('a', T0 + 10_000);
    expect(outcome.handedOff?.rollout.id).toBe('b');
    const b = await stored('b');
    expect(b.status.phase).toBe('Pending');
    expect(b.version).toBe(2);
    expect(b.nextActionAt).toBe(T0 + 10_001);
    expect((await store.history('b')).map((h) => h.event)).toEqual(['rollout.queued', 'rollout.dequeued']);
    expect(await lockHolder()).toBe('b');
    expect(await waitingIds()).toEqual(['c']);
    expect((await store.findActive({ routeName: 'checkout' })).map((a) => a.rolloutId)).toEqual(['b']);
    expect((await store.due(T0 + 10_001, 10)).items.map((r) => r.id)).toEqual(['b']);
  });

  it('an operator abort of a queued rollout takes it out of the queue and leaves the lock alone', async () => {
    for (const [i, id] of ['a', 'b', 'c'].entries()) {
      const { rollout, entry } = request(id, 'queue', T0 + i);
      await store.create(rollout, entry);
    }
    const abort: Input = { type: 'control', command: 'abort', actor: 'operator:ann', note: 'not needed' };
    const aborted = await step(await stored('b'), abort, T0 + 100);
    expect(aborted.r.status.phase).toBe('Aborted');
    expect(aborted.outcome.handedOff).toBeNull();
    expect(await lockHolder()).toBe('a');
    expect(await waitingIds()).toEqual(['c']);
    expect((await abortHolder('a', T0 + 200)).handedOff?.rollout.id).toBe('c');
    // The last holder ends with nobody waiting: the route is free for any request again.
    expect((await abortHolder('c', T0 + 300)).handedOff).toBeNull();
    expect(await lockHolder()).toBeNull();
    const d = request('d', 'reject', T0 + 400);
    expect((await store.create(d.rollout, d.entry)).rollout.status.phase).toBe('Pending');
  });

  it('a superseder waits first in line; a newer superseder replaces it; queued ones keep their order', async () => {
    for (const [i, id] of ['a', 'b', 'c'].entries()) {
      const { rollout, entry } = request(id, 'queue', T0 + i);
      await store.create(rollout, entry);
    }
    const s1 = request('s1', 'supersede', T0 + 10);
    const first = await store.create(s1.rollout, s1.entry);
    expect(first.rollout.supersedes).toBe('a');
    expect(await waitingIds()).toEqual(['s1', 'b', 'c']);
    const s2 = request('s2', 'supersede', T0 + 20);
    const second = await store.create(s2.rollout, s2.entry);
    expect(second.kind === 'created' && second.displaced?.rollout.id).toBe('s1');
    const older = await stored('s1');
    expect(older.status).toMatchObject({ phase: 'Aborted', actor: 'supersede:s2' });
    expect(older.supersededBy).toBe('s2');
    expect((await store.history('s1')).map((h) => h.event)).toEqual(['rollout.queued', 'rollout.superseded']);
    expect(await waitingIds()).toEqual(['s2', 'b', 'c']);
    expect((await store.routeQueue(ROUTE)).waiting[0]?.supersedes).toBe(true);
    // The holder is ended for s2 (the core's supersede input), and the route passes to s2.
    const a = await stored('a');
    const superseded = await step(
      a,
      { type: 'supersede', by: 's2', with: 'rollback', actor: 'supersede:s2' },
      T0 + 30,
    );
    expect(superseded.r.status).toMatchObject({
      phase: 'RollingBack',
      cause: { kind: 'superseded', by: 's2' },
    });
    const ended = await step(superseded.r, observed(superseded.r), T0 + 31);
    expect(ended.r.status.phase).toBe('RolledBack');
    expect(ended.outcome.handedOff?.rollout.id).toBe('s2');
    expect(await lockHolder()).toBe('s2');
    expect(await waitingIds()).toEqual(['b', 'c']);
  });

  it('reject is unchanged: a busy route refuses the request and stores nothing', async () => {
    const a = request('a', 'queue');
    await store.create(a.rollout, a.entry);
    const b = request('b', 'reject');
    await expect(store.create(b.rollout, b.entry)).rejects.toBeInstanceOf(RouteLockedError);
    expect(await store.get('b')).toBeNull();
  });
});

function seqOf(r: Rollout): number {
  return r.status.phase === 'Queued' ? r.status.seq : Number.NaN;
}
