import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { FirestoreRolloutStore } from '../../functions/adapters/firestore-store.ts';
import type { Input } from '../../functions/core/inputs.ts';
import type { Rollout, RouteIntent } from '../../functions/core/state.ts';
import { transition } from '../../functions/core/transition.ts';
import {
  DuplicateMessageError,
  type PageCursor,
  RouteLockedError,
  SpecConflictError,
  VersionConflictError,
} from '../../functions/ports/rollout-store.ts';
import { observed, routeInput } from '../support/drive.ts';
import { testFirestore } from '../support/firestore.ts';
import { newRollout, routeName } from '../support/fixtures.ts';

const fs = testFirestore('store-contract');
const store = new FirestoreRolloutStore(fs.db);
const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

beforeEach(() => fs.clear());
afterAll(() => fs.close());

/** Applies one input through the core and stores the result, as a driver does. */
/** The intent the first step of `r` records. */
function stepIntent(r: Rollout): RouteIntent {
  const d = transition(r, { type: 'start', actor: 'test' }, T0);
  if (d.kind !== 'changed' || d.rollout.intent === null) throw new Error('start records an intent');
  return d.rollout.intent;
}

async function step(r: Rollout, input: Input, now: number): Promise<Rollout> {
  const decision = transition(r, input, now);
  if (decision.kind !== 'changed') throw new Error(`expected a change, got: ${decision.reason}`);
  await store.commit(decision.rollout, decision.entry);
  return decision.rollout;
}

describe('FirestoreRolloutStore against the Firestore emulator', () => {
  it('creates a rollout once: the same id and request twice yields one document and "exists"', async () => {
    const { rollout, entry } = newRollout('r-idem');
    const first = await store.create(rollout, entry);
    const second = await store.create(rollout, entry);
    expect(first.kind).toBe('created');
    expect(second.kind).toBe('exists');
    expect(second.rollout.spec).toEqual(rollout.spec);
    const docs = await fs.db.collection('rollouts').get();
    expect(docs.size).toBe(1);
    expect(await store.history('r-idem')).toHaveLength(1);
  });

  it('refuses the same id with a different request, naming the conflict', async () => {
    const { rollout, entry } = newRollout('r-conflict');
    await store.create(rollout, entry);
    const other = newRollout('r-conflict', { steps: [{ weight: 20, hold: '1m' }] });
    await expect(store.create(other.rollout, other.entry)).rejects.toBeInstanceOf(SpecConflictError);
    const stored = await store.get('r-conflict');
    expect(stored?.spec).toEqual(rollout.spec);
  });

  it('keeps one active rollout per route and releases the lock when the rollout ends', async () => {
    const a = newRollout('r-a');
    await store.create(a.rollout, a.entry);
    const b = newRollout('r-b', {
      canary: 'projects/demo-project/locations/global/backendServices/other-canary',
    });
    const refused = store.create(b.rollout, b.entry);
    await expect(refused).rejects.toBeInstanceOf(RouteLockedError);
    await expect(refused).rejects.toThrow(/already has an active rollout \(r-a\)/);
    expect(await store.get('r-b')).toBeNull();

    let r = await step(
      a.rollout,
      { type: 'control', command: 'abort', actor: 'operator:test', note: 'stop' },
      T0 + 1000,
    );
    expect(r.status.phase).toBe('RollingBack');
    expect(await store.findActive({ routeName: 'checkout' })).toHaveLength(1);
    r = await step(r, observed(r), T0 + 2000);
    expect(r.status.phase).toBe('Aborted');
    expect(await store.findActive({ routeName: 'checkout' })).toHaveLength(0);
    expect((await store.create(b.rollout, b.entry)).kind).toBe('created');

    // The ended rollout still records putting right a late write of its own; r-b keeps the lock.
    const late = stepIntent(a.rollout);
    r = await step(r, routeInput(late, late.weights, true, 'workflow:late'), T0 + 3000);
    expect(r.intent?.purpose).toBe('restore');
    r = await step(r, observed(r), T0 + 4000);
    expect(r.status.phase).toBe('Aborted');
    expect((await store.history('r-a')).at(-1)?.event).toBe('rollout.weights_restored');
    expect((await store.findActive({ routeName: 'checkout' })).map((x) => x.rolloutId)).toEqual(['r-b']);
  });

  it('applies exactly one of 10 concurrent transitions computed from the same version', async () => {
    const { rollout, entry } = newRollout('r-race');
    await store.create(rollout, entry);
    const attempts = Array.from({ length: 10 }, (_, i) =>
      transition(
        rollout,
        { type: 'control', command: 'pause', actor: `operator:${i}`, note: `n${i}` },
        T0 + i,
      ),
    );
    const results = await Promise.allSettled(
      attempts.map((d) =>
        d.kind === 'changed' ? store.commit(d.rollout, d.entry) : Promise.reject(new Error('no change')),
      ),
    );
    const won = results.filter((x) => x.status === 'fulfilled');
    const lost = results.filter((x): x is PromiseRejectedResult => x.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(9);
    for (const l of lost) expect(l.reason).toBeInstanceOf(VersionConflictError);
    const winner = results.findIndex((x) => x.status === 'fulfilled');
    const stored = await store.get('r-race');
    const history = await store.history('r-race');
    expect(stored?.version).toBe(2);
    expect(history.map((h) => h.version)).toEqual([1, 2]);
    expect(history[1]?.actor).toBe(`operator:${winner}`);
    const winning = attempts[winner];
    expect(stored).toEqual(winning?.kind === 'changed' ? winning.rollout : null);

    // Nothing is lost: each loser reloads, decides again on what is stored, and commits or is
    // told explicitly why its input changes nothing now.
    const outcome = new Map<number, string>([[winner, 'committed']]);
    await Promise.all(
      results.map(async (_, i) => {
        if (i === winner) return;
        const input = { type: 'control', command: 'resume', actor: `operator:${i}`, note: `n${i}` } as const;
        for (;;) {
          const current = await store.get('r-race');
          if (current === null) throw new Error('rollout vanished');
          const d = transition(current, i % 2 === 0 ? { ...input, command: 'pause' } : input, T0 + 100 + i);
          if (d.kind !== 'changed') {
            outcome.set(i, `no-op: ${d.reason}`);
            return;
          }
          try {
            await store.commit(d.rollout, d.entry);
            outcome.set(i, 'committed');
            return;
          } catch (error) {
            if (!(error instanceof VersionConflictError)) throw error;
          }
        }
      }),
    );
    expect(outcome.size).toBe(10);
    for (const o of outcome.values()) expect(o).toMatch(/^(committed|no-op: .+)$/);
    const after = await store.history('r-race');
    const committed = [...outcome].filter(([, o]) => o === 'committed').map(([i]) => `operator:${i}`);
    expect(committed.length).toBeGreaterThan(1);
    expect(after.map((h) => h.version)).toEqual(after.map((_, k) => k + 1));
    expect(
      after
        .slice(1)
        .map((h) => h.actor)
        .sort(),
    ).toEqual(committed.sort());
    expect((await store.get('r-race'))?.version).toBe(after.length);
  });

  it('refuses a transition computed from an older version', async () => {
    const { rollout, entry } = newRollout('r-stale');
    await store.create(rollout, entry);
    await step(rollout, { type: 'control', command: 'pause', actor: 'operator:a', note: 'x' }, T0 + 1);
    await expect(
      step(rollout, { type: 'control', command: 'abort', actor: 'operator:b', note: 'y' }, T0 + 2),
    ).rejects.toBeInstanceOf(VersionConflictError);
    expect((await store.get('r-stale'))?.status.phase).toBe('Paused');
  });

  it('keeps history in transition order with before/after of each change', async () => {
    const { rollout, entry } = newRollout('r-history');
    await store.create(rollout, entry);
    let r = await step(rollout, { type: 'start', actor: 'workflow:e1' }, T0 + 1000);
    r = await step(r, observed(r), T0 + 2000);
    r = await step(r, { type: 'control', command: 'pause', actor: 'operator:ann', note: 'lunch' }, T0 + 3000);
    r = await step(r, { type: 'control', command: 'resume', actor: 'operator:ann', note: 'back' }, T0 + 4000);
    const history = await store.history('r-history');
    expect(history.map((h) => [h.version, h.event])).toEqual([
      [1, 'rollout.created'],
      [2, 'rollout.weights_applying'],
      [3, 'rollout.weights_live'],
      [4, 'rollout.paused'],
      [5, 'rollout.resumed'],
    ]);
    expect(history[2]?.from.weights).toEqual({ stable: 100, canary: 0 });
    expect(history[2]?.to.weights).toEqual({ stable: 90, canary: 10 });
    expect(history[3]?.actor).toBe('operator:ann');
    expect(r.version).toBe(5);
  });

  it('recognises a redelivered message inside a commit', async () => {
    const { rollout, entry } = newRollout('r-dedupe');
    await store.create(rollout, entry);
    const first = transition(
      rollout,
      { type: 'control', command: 'pause', actor: 'operator:a', note: 'x' },
      T0 + 1,
    );
    if (first.kind !== 'changed') throw new Error('expected change');
    await store.commit(first.rollout, first.entry, { dedupeKey: 'rollout-control:7' });
    expect(await store.hasProcessed('rollout-control:7')).toBe(true);
    const record = await fs.db.collection('processedMessages').doc('rollout-control:7').get();
    expect(record.get('expireAt').toMillis()).toBeGreaterThan(T0);
    const again = transition(
      first.rollout,
      { type: 'control', command: 'abort', actor: 'operator:a', note: 'x' },
      T0 + 2,
    );
    if (again.kind !== 'changed') throw new Error('expected change');
    await expect(
      store.commit(again.rollout, again.entry, { dedupeKey: 'rollout-control:7' }),
    ).rejects.toBeInstanceOf(DuplicateMessageError);
    expect((await store.get('r-dedupe'))?.version).toBe(2);
  });

  it('records route operations once, settles them, and lists the pending and the stray ones', async () => {
    const op = (name: string, rolloutId: string, startedAt: number) => ({
      name: `projects/p/locations/global/operations/${name}`,
      rolloutId,
      route: routeName('ops'),
      intentId: 2,
      weights: { stable: 90, canary: 10 },
      startedAt,
    });
    await store.recordOperation(op('a', 'r-ops', T0));
    await store.recordOperation(op('a', 'r-ops', T0 + 999)); // a repeat changes nothing
    await store.recordOperation(op('b', 'r-ops', T0 + 10));
    await store.recordOperation(op('c', 'r-other', T0 + 5));
    expect(await store.pendingOperations('r-ops')).toEqual([op('a', 'r-ops', T0), op('b', 'r-ops', T0 + 10)]);
    await store.settleOperation(op('a', 'r-ops', T0).name, 'cancelled', T0 + 20);
    expect((await store.pendingOperations('r-ops')).map((o) => o.name)).toEqual([op('b', 'r-ops', T0).name]);
    expect((await store.strayOperations(T0 + 5, 10)).items.map((o) => o.rolloutId)).toEqual(['r-other']);
    expect((await store.strayOperations(T0 + 10, 10)).items.map((o) => o.rolloutId)).toEqual([
      'r-other',
      'r-ops',
    ]);
    // A page at a time, resuming after the last one read.
    const first = await store.strayOperations(T0 + 10, 1);
    expect(first.items.map((o) => o.rolloutId)).toEqual(['r-other']);
    const second = await store.strayOperations(T0 + 10, 1, first.next);
    expect(second.items.map((o) => o.rolloutId)).toEqual(['r-ops']);
    expect((await store.strayOperations(T0 + 10, 1, second.next)).items).toEqual([]);
  });

  it('lets exactly one delivery claim the start of an execution, and one take over a stale claim', async () => {
    const claims = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.claimDriverStart('r-claim', `t${i}`, T0, 30_000)),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await store.claimDriverStart('r-claim', 'late', T0 + 29_999, 30_000)).toBe(false);
    const takeovers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.claimDriverStart('r-claim', `s${i}`, T0 + 30_000, 30_000)),
    );
    expect(takeovers.filter(Boolean)).toHaveLength(1);
  });

  it('lets the next delivery claim at once when a start failed and gave its claim up, and only one', async () => {
    expect(await store.claimDriverStart('r-release', 'first', T0, 60_000)).toBe(true);
    await store.releaseDriverStart('r-release', 'somebody-else'); // not theirs: nothing happens
    expect(await store.claimDriverStart('r-release', 'second', T0 + 1, 60_000)).toBe(false);
    // Released while dozens of deliveries are claiming: exactly one of those that come after wins.
    const racing = Array.from({ length: 30 }, (_, i) =>
      store.claimDriverStart('r-release', `r${i}`, T0 + 2, 60_000),
    );
    await store.releaseDriverStart('r-release', 'first');
    const after = await Promise.all(
      Array.from({ length: 30 }, (_, i) => store.claimDriverStart('r-release', `a${i}`, T0 + 3, 60_000)),
    );
    expect([...(await Promise.all(racing)), ...after].filter(Boolean)).toHaveLength(1);
  });

  it('lists rollouts waiting for a person, longest waiting first', async () => {
    const { rollout, entry } = newRollout('r-waiting', { route: routeName('waiting') }, T0);
    await store.create(rollout, entry);
    let r = await step(
      rollout,
      { type: 'control', command: 'abort', actor: 'operator:a', note: 'x' },
      T0 + 1,
    );
    r = await step(
      r,
      {
        type: 'routeFailed',
        actor: 't',
        intentId: r.intent?.id ?? -1,
        error: { kind: 'permissionDenied', message: 'no' },
      },
      T0 + 2,
    );
    expect(r.status.phase).toBe('ActionRequired');
    const waiting = (await store.waiting(10)).items.find((w) => w.id === 'r-waiting');
    expect(waiting).toEqual(await store.get('r-waiting'));
    expect(waiting?.updatedAt).toBe(T0 + 2);
  });

  it('lists due rollouts: active phases whose next action time has come, soonest first', async () => {
    const later = newRollout('r-later', { route: routeName('later') }, T0 + 60_000);
    const soon = newRollout('r-soon', { route: routeName('soon') }, T0);
    const paused = newRollout('r-paused', { route: routeName('paused') }, T0);
    const done = newRollout('r-done', { route: routeName('done') }, T0);
    for (const x of [later, soon, paused, done]) await store.create(x.rollout, x.entry);
    await step(paused.rollout, { type: 'control', command: 'pause', actor: 'operator:a', note: 'x' }, T0 + 1);
    let d = await step(
      done.rollout,
      { type: 'control', command: 'abort', actor: 'operator:a', note: 'x' },
      T0 + 1,
    );
    d = await step(d, observed(d), T0 + 2);
    expect(d.status.phase).toBe('Aborted');

    const ids = async (now: number, limit: number, after: PageCursor | null = null) =>
      (await store.due(now, limit, after)).items.map((x) => x.id);
    expect(await ids(T0 + 30_000, 10)).toEqual(['r-soon']);
    expect(await ids(T0 + 120_000, 10)).toEqual(['r-soon', 'r-later']);
    // Each rollout as stored, a page at a time.
    const first = await store.due(T0 + 120_000, 1);
    expect(first.items).toEqual([await store.get('r-soon')]);
    expect(first.next).not.toBeNull();
    expect(await ids(T0 + 120_000, 1, first.next)).toEqual(['r-later']);
    expect((await store.due(T0 + 120_000, 3)).next).toBeNull();
  });

  it('finds active rollouts by the labels an alert policy carries', async () => {
    const a = newRollout('r-find', { route: routeName('cart') });
    await store.create(a.rollout, a.entry);
    const [found] = await store.findActive({ canaryService: 'checkout-canary' });
    expect(found).toEqual({
      rolloutId: 'r-find',
      route: routeName('cart'),
      routes: [routeName('cart')],
      routeName: 'cart',
      stableName: 'checkout-stable',
      canaryName: 'checkout-canary',
      canaryService: 'checkout-canary',
    });
    expect(await store.findActive({ routeName: 'cart', canaryName: 'nope' })).toEqual([]);
    expect(await store.findActive({ rolloutId: 'r-find' })).toHaveLength(1);
  });
});
