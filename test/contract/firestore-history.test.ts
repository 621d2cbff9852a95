/**
 * RolloutStore.list on the Firestore emulator (what `rolloutctl history` reads): every rollout,
 * finished ones too, newest first, paged without gaps or duplicates, filtered by route (any route
 * of a release) and by creation time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FirestoreRolloutStore } from '../../functions/adapters/firestore-store.ts';
import type { Rollout } from '../../functions/core/state.ts';
import { transition } from '../../functions/core/transition.ts';
import type { PageCursor, RolloutQuery } from '../../functions/ports/rollout-store.ts';
import { observed } from '../support/drive.ts';
import { testFirestore } from '../support/firestore.ts';
import { grpcRouteName, newRelease, newRollout, routeName } from '../support/fixtures.ts';

const fs = testFirestore('store-history');
const store = new FirestoreRolloutStore(fs.db);
const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const MIN = 60_000;

/** id → createdAt; two pairs share a creation time (the id breaks the tie). */
const CREATED: Record<string, number> = {
  'h-1': T0,
  'h-2': T0 + MIN,
  'h-3': T0 + 2 * MIN,
  'h-4a': T0 + 3 * MIN,
  'h-4b': T0 + 3 * MIN,
  'h-5': T0 + 4 * MIN,
  'h-6': T0 + 5 * MIN,
  'h-7a': T0 + 6 * MIN,
  'h-7b': T0 + 6 * MIN,
};
const RELEASE = 'h-release';
const RELEASE_AT = T0 + 7 * MIN;
const WEB = routeName('web');
const WEB_GRPC = grpcRouteName('web-grpc');

/** Everything, newest first: createdAt descending, then id descending. */
const NEWEST_FIRST = [RELEASE, 'h-7b', 'h-7a', 'h-6', 'h-5', 'h-4b', 'h-4a', 'h-3', 'h-2', 'h-1'];

async function all(query: RolloutQuery, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let after: PageCursor | null = null;
  let pages = 0;
  do {
    const page = await store.list(query, limit, after);
    ids.push(...page.items.map((r) => r.id));
    after = page.next;
    pages += 1;
  } while (after !== null && pages < 50);
  return { ids, pages };
}

async function step(r: Rollout, input: Parameters<typeof transition>[1], now: number): Promise<Rollout> {
  const d = transition(r, input, now);
  if (d.kind !== 'changed') throw new Error(`expected a change: ${d.reason}`);
  await store.commit(d.rollout, d.entry);
  return d.rollout;
}

beforeAll(async () => {
  await fs.clear();
  for (const [id, at] of Object.entries(CREATED)) {
    const { rollout, entry } = newRollout(id, { route: routeName(`svc-${id}`) }, at);
    await store.create(rollout, entry);
  }
  const release = newRelease(RELEASE, [WEB, WEB_GRPC], {}, RELEASE_AT);
  await store.create(release.rollout, release.entry);
  // h-3 ends (Aborted): finished rollouts are listed too.
  const h3 = await store.get('h-3');
  if (h3 === null) throw new Error('h-3 was not stored');
  const abort = { type: 'control', command: 'abort', actor: 'operator:test', note: 'stop' } as const;
  const rollingBack = await step(h3, abort, T0 + 10 * MIN);
  expect((await step(rollingBack, observed(rollingBack), T0 + 11 * MIN)).status.phase).toBe('Aborted');
});
afterAll(() => fs.close());

describe('FirestoreRolloutStore.list against the Firestore emulator', () => {
  it('lists every rollout, finished ones too, newest first (createdAt, then id)', async () => {
    const page = await store.list({}, 100);
    expect(page.items.map((r) => r.id)).toEqual(NEWEST_FIRST);
    expect(page.next).toBeNull();
    expect(page.items.find((r) => r.id === 'h-3')?.status.phase).toBe('Aborted');
  });

  it.each([1, 2, 3, 4, 9, 10])('pages of %i cover every rollout once, in order', async (limit) => {
    const { ids, pages } = await all({}, limit);
    expect(ids).toEqual(NEWEST_FIRST);
    expect(pages).toBe(Math.floor(NEWEST_FIRST.length / limit) + 1);
  });

  it('filters by route: any route of a release finds it, the second one included', async () => {
    for (const route of [WEB, WEB_GRPC]) {
      expect((await store.list({ route }, 10)).items.map((r) => r.id)).toEqual([RELEASE]);
    }
    expect((await store.list({ route: routeName('svc-h-3') }, 10)).items.map((r) => r.id)).toEqual(['h-3']);
    expect((await store.list({ route: routeName('nowhere') }, 10)).items).toEqual([]);
  });

  it('filters by creation time, at or after it, and pages within the filter', async () => {
    const since = T0 + 3 * MIN;
    const { ids } = await all({ since }, 2);
    expect(ids).toEqual(NEWEST_FIRST.filter((id) => id === RELEASE || (CREATED[id] ?? 0) >= since));
    expect(ids).toEqual([RELEASE, 'h-7b', 'h-7a', 'h-6', 'h-5', 'h-4b', 'h-4a']);
    expect((await store.list({ since: RELEASE_AT + 1 }, 10)).items).toEqual([]);
    const both = await store.list({ route: WEB_GRPC, since: RELEASE_AT }, 10);
    expect(both.items.map((r) => r.id)).toEqual([RELEASE]);
    expect((await store.list({ route: WEB_GRPC, since: RELEASE_AT + 1 }, 10)).items).toEqual([]);
  });

  it('keeps `routes` on the stored document and out of the rollout the core reads', async () => {
    const raw = (await fs.db.doc(`rollouts/${RELEASE}`).get()).data();
    expect(raw?.['routes']).toEqual([WEB, WEB_GRPC]);
    const read = await store.get(RELEASE);
    expect(read).not.toHaveProperty('routes');
    expect((await store.list({}, 1)).items[0]).not.toHaveProperty('routes');
  });

  it('lists a document stored before `routes` existed, but a route filter does not find it', async () => {
    const { rollout } = newRollout('h-old', { route: routeName('old') }, T0 - MIN);
    await fs.db.doc('rollouts/h-old').set(rollout); // no `routes`, as written before this version
    try {
      expect((await store.list({}, 100)).items.map((r) => r.id).at(-1)).toBe('h-old');
      expect((await store.list({ route: routeName('old') }, 10)).items).toEqual([]);
    } finally {
      await fs.db.doc('rollouts/h-old').delete();
    }
  });
});
