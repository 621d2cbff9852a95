/**
 * The outbox on the Firestore emulator: every history document is created in the same commit as
 * its event in `outbox/{eventId}` — plain commits, creations, queued creations, displaced
 * superseders, the hand-over of a route lock — and a commit that fails writes neither.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { FirestoreRolloutStore } from '../../functions/adapters/firestore-store.ts';
import type { OutboxEvent } from '../../functions/core/events.ts';
import type { Input } from '../../functions/core/inputs.ts';
import type { Rollout } from '../../functions/core/state.ts';
import { transition } from '../../functions/core/transition.ts';
import {
  DuplicateMessageError,
  type PageCursor,
  RouteLockedError,
  VersionConflictError,
} from '../../functions/ports/rollout-store.ts';
import { observed } from '../support/drive.ts';
import { testFirestore } from '../support/firestore.ts';
import { newRollout, routeName } from '../support/fixtures.ts';

const fs = testFirestore('outbox-contract');
const store = new FirestoreRolloutStore(fs.db);
const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const ABORT: Input = { type: 'control', command: 'abort', actor: 'operator:test', note: 'stop' };
const PAUSE: Input = { type: 'control', command: 'pause', actor: 'operator:test', note: 'wait' };

beforeEach(() => fs.clear());
afterAll(() => fs.close());

function decide(r: Rollout, input: Input, now: number) {
  const d = transition(r, input, now);
  if (d.kind !== 'changed') throw new Error(`expected a change, got: ${d.reason}`);
  return d;
}

async function stored(id: string): Promise<Rollout> {
  const r = await store.get(id);
  if (r === null) throw new Error(`no rollout ${id}`);
  return r;
}

/** Every history document's `<rolloutId>.v<version>`, read from the history collections. */
async function historyIds(): Promise<string[]> {
  const docs = await fs.db.collectionGroup('history').get();
  return docs.docs.map((d) => `${d.ref.parent.parent?.id}.v${Number(d.get('version'))}`).sort();
}

async function outboxDocs(): Promise<OutboxEvent[]> {
  return (await fs.db.collection('outbox').get()).docs.map((d) => d.data() as OutboxEvent);
}

async function expectOutboxIsHistory(): Promise<string[]> {
  const ids = (await outboxDocs()).map((e) => e.eventId).sort();
  expect(ids).toEqual(await historyIds());
  return ids;
}

describe('the outbox on the Firestore emulator', () => {
  it('creates the event of each history entry in its commit: the body, version and attributes', async () => {
    const { rollout, entry } = newRollout('r-1', {}, T0);
    await store.create(rollout, entry);
    const paused = decide(rollout, PAUSE, T0 + 1000);
    await store.commit(paused.rollout, paused.entry);
    expect(await expectOutboxIsHistory()).toEqual(['r-1.v1', 'r-1.v2']);
    const [second] = (await outboxDocs()).filter((e) => e.version === 2);
    expect(second).toMatchObject({
      eventId: 'r-1.v2',
      rolloutId: 'r-1',
      createdAt: T0 + 1000,
      event: { eventId: 'r-1.v2', type: 'rollout.paused', version: 2, previousPhase: 'Pending' },
      attributes: { rolloutId: 'r-1', type: 'rollout.paused', phase: 'Paused', eventId: 'r-1.v2' },
    });
  });

  it('a failed commit writes no event: version conflict, duplicate message, busy route', async () => {
    const { rollout, entry } = newRollout('r-2', {}, T0);
    await store.create(rollout, entry, { dedupeKey: 'm-1' });
    const paused = decide(rollout, PAUSE, T0 + 1000);
    await store.commit(paused.rollout, paused.entry, { dedupeKey: 'm-2' });
    // Another driver decided version 2 from version 1 too: its commit fails, its event is not written.
    const aborted = decide(rollout, ABORT, T0 + 2000);
    await expect(store.commit(aborted.rollout, aborted.entry)).rejects.toBeInstanceOf(VersionConflictError);
    const later = decide(paused.rollout, { ...PAUSE, command: 'resume' }, T0 + 3000);
    await expect(store.commit(later.rollout, later.entry, { dedupeKey: 'm-2' })).rejects.toBeInstanceOf(
      DuplicateMessageError,
    );
    const other = newRollout('r-3', {}, T0);
    await expect(store.create(other.rollout, other.entry)).rejects.toBeInstanceOf(RouteLockedError);
    expect(await expectOutboxIsHistory()).toEqual(['r-2.v1', 'r-2.v2']);
    const events = await outboxDocs();
    expect(events.map((e) => e.event.type).sort()).toEqual(['rollout.created', 'rollout.paused']);
  });

  it('the event is written in the same commit as the history entry: one that cannot be written fails both', async () => {
    const { rollout, entry } = newRollout('r-4', {}, T0);
    await store.create(rollout, entry);
    // A stray outbox document in the way of version 2's event: the whole commit fails.
    await fs.db.collection('outbox').doc('r-4.v2').create({ eventId: 'r-4.v2', createdAt: 0 });
    const paused = decide(rollout, PAUSE, T0 + 1000);
    await expect(store.commit(paused.rollout, paused.entry)).rejects.toBeInstanceOf(VersionConflictError);
    expect((await store.history('r-4')).map((h) => h.version)).toEqual([1]);
    expect((await stored('r-4')).version).toBe(1);
    // The same in a terminal commit (a transaction that releases the route lock).
    await fs.db.collection('outbox').doc('r-4.v2').delete();
    const rolling = decide(rollout, ABORT, T0 + 2000);
    await store.commit(rolling.rollout, rolling.entry);
    await fs.db.collection('outbox').doc('r-4.v3').create({ eventId: 'r-4.v3', createdAt: 0 });
    const ended = decide(rolling.rollout, observed(rolling.rollout), T0 + 3000);
    await expect(store.commit(ended.rollout, ended.entry)).rejects.toBeInstanceOf(VersionConflictError);
    expect((await store.history('r-4')).map((h) => h.version)).toEqual([1, 2]);
    expect(await store.findActive({ rolloutId: 'r-4' })).toHaveLength(1);
  });

  it('queued creations, displaced superseders and rollouts handed the lock get their events in the same commit', async () => {
    const create = (id: string, whenRouteBusy: 'queue' | 'supersede', at: number) => {
      const { rollout, entry } = newRollout(id, { whenRouteBusy }, at);
      return store.create(rollout, entry);
    };
    await create('holder', 'queue', T0);
    await create('waiter', 'queue', T0 + 1);
    await create('sup-1', 'supersede', T0 + 2);
    const displacing = await create('sup-2', 'supersede', T0 + 3);
    expect(displacing.kind === 'created' ? displacing.displaced?.rollout.id : null).toBe('sup-1');
    const holder = await stored('holder');
    const rolling = decide(holder, ABORT, T0 + 10);
    await store.commit(rolling.rollout, rolling.entry);
    const ended = decide(rolling.rollout, observed(rolling.rollout), T0 + 11);
    const outcome = await store.commit(ended.rollout, ended.entry);
    expect(outcome.handedOff?.rollout.id).toBe('sup-2');
    const ids = await expectOutboxIsHistory();
    expect(ids).toEqual([
      'holder.v1',
      'holder.v2',
      'holder.v3',
      'sup-1.v1',
      'sup-1.v2',
      'sup-2.v1',
      'sup-2.v2',
      'waiter.v1',
    ]);
    const types = Object.fromEntries((await outboxDocs()).map((e) => [e.eventId, e.event.type]));
    expect(types).toMatchObject({
      'sup-1.v2': 'rollout.superseded',
      'sup-2.v2': 'rollout.dequeued',
      'waiter.v1': 'rollout.queued',
    });
  });

  it('lists pending events oldest first, a page at a time, and forgets published ones', async () => {
    for (let i = 0; i < 5; i += 1) {
      const { rollout, entry } = newRollout(`p-${i}`, { route: routeName(`p-${i}`) }, T0 + (4 - i) * 1000);
      await store.create(rollout, entry);
    }
    expect((await store.pendingEvents(T0 + 1000, 10)).items.map((e) => e.eventId)).toEqual([
      'p-4.v1',
      'p-3.v1',
    ]);
    const seen: string[] = [];
    let after: PageCursor | null = null;
    do {
      const page: Awaited<ReturnType<typeof store.pendingEvents>> = await store.pendingEvents(
        T0 + 60_000,
        2,
        after,
      );
      seen.push(...page.items.map((e) => e.eventId));
      after = page.next;
    } while (after !== null);
    expect(seen).toEqual(['p-4.v1', 'p-3.v1', 'p-2.v1', 'p-1.v1', 'p-0.v1']);
    const [first] = (await store.pendingEvents(T0 + 60_000, 1)).items;
    expect(first?.event).toMatchObject({ eventId: 'p-4.v1', type: 'rollout.created', rolloutId: 'p-4' });
    await store.eventsPublished(['p-4.v1', 'p-2.v1', 'unknown.v9']);
    expect((await store.pendingEvents(T0 + 60_000, 10)).items.map((e) => e.eventId)).toEqual([
      'p-3.v1',
      'p-1.v1',
      'p-0.v1',
    ]);
    // The history stays: only the outbox record goes.
    expect(await store.history('p-4')).toHaveLength(1);
  });
});
