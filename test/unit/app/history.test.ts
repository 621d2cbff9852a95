/** What `rolloutctl history` makes of stored rollouts: one summary each, newest first, paged. */
import { describe, expect, it } from 'vitest';
import { rolloutHistory, summarize } from '../../../functions/app/history.ts';
import type { Rollout } from '../../../functions/core/state.ts';
import { transition } from '../../../functions/core/transition.ts';
import type { PageCursor } from '../../../functions/ports/rollout-store.ts';
import { observed } from '../../support/drive.ts';
import { grpcRouteName, newRelease, newRollout, routeName } from '../../support/fixtures.ts';
import { MemoryStore } from '../../support/memory-ports.ts';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const MIN = 60_000;

async function step(store: MemoryStore, r: Rollout, input: Parameters<typeof transition>[1], now: number) {
  const d = transition(r, input, now);
  if (d.kind !== 'changed') throw new Error(d.reason);
  await store.commit(d.rollout, d.entry);
  return d.rollout;
}

async function seeded(): Promise<MemoryStore> {
  const store = new MemoryStore();
  for (const [i, id] of ['a', 'b', 'c', 'd'].entries()) {
    const { rollout, entry } = newRollout(id, { route: routeName(`svc-${id}`) }, T0 + i * MIN);
    await store.create(rollout, entry);
  }
  const rel = newRelease('rel', [routeName('web'), grpcRouteName('web-grpc')], {}, T0 + 10 * MIN);
  await store.create(rel.rollout, rel.entry);
  const b = await store.get('b');
  if (b === null) throw new Error('b');
  const abort = { type: 'control', command: 'abort', actor: 'operator:ann', note: 'bad canary' } as const;
  const rb = await step(store, b, abort, T0 + 20 * MIN);
  await step(store, rb, observed(rb), T0 + 21 * MIN);
  return store;
}

describe('rolloutHistory', () => {
  it('sums up a finished rollout: final phase, when it ended, how long it took, the last reason', async () => {
    const store = await seeded();
    const { rollouts } = await rolloutHistory(store, { query: {}, limit: 10, after: null }, T0 + 60 * MIN);
    const b = rollouts.find((s) => s.id === 'b');
    expect(b).toMatchObject({
      phase: 'Aborted',
      finished: true,
      routes: [routeName('svc-b')],
      createdAt: T0 + MIN,
      endedAt: T0 + 21 * MIN,
      durationMs: 20 * MIN,
    });
    expect(b?.lastReason).toEqual((await store.history('b')).at(-1)?.reason);
    const d = rollouts.find((s) => s.id === 'd');
    expect(d).toMatchObject({ phase: 'Pending', finished: false, endedAt: null, durationMs: 57 * MIN });
    expect(d?.lastEvent).toBe('rollout.created');
  });

  it('pages newest first without gaps or repeats, and filters by any route of a release', async () => {
    const store = await seeded();
    const ids: string[] = [];
    let after: PageCursor | null = null;
    do {
      const page = await rolloutHistory(store, { query: {}, limit: 2, after }, T0);
      ids.push(...page.rollouts.map((s) => s.id));
      after = page.next;
    } while (after !== null);
    expect(ids).toEqual(['rel', 'd', 'c', 'b', 'a']);
    const second = await rolloutHistory(
      store,
      { query: { route: grpcRouteName('web-grpc') }, limit: 5, after: null },
      T0,
    );
    expect(second.rollouts.map((s) => s.id)).toEqual(['rel']);
    const since = await rolloutHistory(store, { query: { since: T0 + 2 * MIN }, limit: 5, after: null }, T0);
    expect(since.rollouts.map((s) => s.id)).toEqual(['rel', 'd', 'c']);
  });

  it('takes the end from the history entry that made it final, not a later restore', () => {
    const { rollout, entry } = newRollout('x', {}, T0);
    const ended = { ...rollout, status: { phase: 'Succeeded' as const }, updatedAt: T0 + 9 * MIN };
    const final = {
      ...entry,
      version: 2,
      at: T0 + 5 * MIN,
      to: { ...entry.to, phase: 'Succeeded' as const },
    };
    const restore = { ...final, version: 3, at: T0 + 9 * MIN, reason: 'restored a late write' };
    const s = summarize(ended, [entry, final, restore], T0 + 99 * MIN);
    expect(s).toMatchObject({
      endedAt: T0 + 5 * MIN,
      durationMs: 5 * MIN,
      lastReason: 'restored a late write',
    });
  });
});
