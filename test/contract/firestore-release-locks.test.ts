/**
 * Route locks of a release of several routes on the Firestore emulator: all claimed in the commit
 * that creates the rollout (one busy route refuses the release, nothing written), all released in
 * the commit that makes it terminal, and every route's lock found by that route's alert labels.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { FirestoreRolloutStore } from '../../functions/adapters/firestore-store.ts';
import { type HistoryEntry, type Rollout, snapshot } from '../../functions/core/state.ts';
import { RouteLockedError } from '../../functions/ports/rollout-store.ts';
import { testFirestore } from '../support/firestore.ts';
import { backendName, newRollout, PROJECT, routeName } from '../support/fixtures.ts';

const fs = testFirestore('release-locks-contract');
const store = new FirestoreRolloutStore(fs.db);
const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const HTTP = routeName('shop');
const GRPC = `projects/${PROJECT}/locations/global/grpcRoutes/shop-grpc`;
const TCP = `projects/${PROJECT}/locations/global/tcpRoutes/shop-tcp`;

beforeEach(() => fs.clear());
afterAll(() => fs.close());

function release(id: string, routes: readonly string[], now = T0) {
  return newRollout(
    id,
    {
      route: undefined,
      targets: routes.map((route, i) =>
        i === 1
          ? { route, stable: backendName('grpc-stable'), canary: backendName('grpc-canary') }
          : { route },
      ),
    },
    now,
  );
}

/** The rollout's next version, Aborted by an operator (as the core's last commit of an abort stores it). */
function aborted(r: Rollout, at: number): { next: Rollout; entry: HistoryEntry } {
  const next: Rollout = {
    ...r,
    status: { phase: 'Aborted', actor: 'operator:test', note: 'stop' },
    version: r.version + 1,
    updatedAt: at,
    nextActionAt: null,
  };
  const entry: HistoryEntry = {
    version: next.version,
    at,
    event: 'rollout.aborted',
    actor: 'operator:test',
    input: 'control',
    reason: 'aborted',
    from: snapshot(r),
    to: snapshot(next),
    intent: null,
    verdict: null,
  };
  return { next, entry };
}

async function holders(routes: readonly string[]): Promise<(string | null)[]> {
  return Promise.all(routes.map(async (route) => (await store.routeQueue(route)).holder));
}

describe('route locks of a release of several routes (Firestore emulator)', () => {
  it('claims every route in the commit that creates the release, each lock naming its own route and backends', async () => {
    const a = release('rel-a', [HTTP, GRPC, TCP]);
    expect((await store.create(a.rollout, a.entry)).kind).toBe('created');
    expect(await holders([HTTP, GRPC, TCP])).toEqual(['rel-a', 'rel-a', 'rel-a']);
    const byGrpc = await store.findActive({ routeName: 'shop-grpc' });
    expect(byGrpc).toEqual([
      {
        rolloutId: 'rel-a',
        route: GRPC,
        routes: [HTTP, GRPC, TCP],
        routeName: 'shop-grpc',
        stableName: 'grpc-stable',
        canaryName: 'grpc-canary',
        canaryService: 'checkout-canary',
      },
    ]);
    expect((await store.findActive({ canaryName: 'grpc-canary' })).map((x) => x.rolloutId)).toEqual([
      'rel-a',
    ]);
    // The canary two targets share: one record for the release, not one per lock.
    expect((await store.findActive({ canaryName: 'checkout-canary' })).map((x) => x.route)).toHaveLength(1);
    expect((await store.findActive({})).map((x) => x.rolloutId)).toEqual(['rel-a']);
  });

  it('refuses a second release sharing one route, naming that route; nothing of it is written', async () => {
    const a = release('rel-a', [TCP, GRPC]);
    await store.create(a.rollout, a.entry);
    const b = release('rel-b', [HTTP, GRPC]);
    const refused = store.create(b.rollout, b.entry);
    await expect(refused).rejects.toBeInstanceOf(RouteLockedError);
    await expect(refused).rejects.toThrow(`route ${GRPC} already has an active rollout (rel-a)`);
    expect(await store.get('rel-b')).toBeNull();
    expect(await store.history('rel-b')).toEqual([]);
    expect(await holders([HTTP, GRPC, TCP])).toEqual([null, 'rel-a', 'rel-a']);
    // A one-route rollout on a route of the release is refused the same way.
    const one = newRollout('one', { route: TCP });
    await expect(store.create(one.rollout, one.entry)).rejects.toThrow(
      `route ${TCP} already has an active rollout (rel-a)`,
    );
  });

  it('releases every lock in the commit that makes the release terminal; the routes are free again', async () => {
    const a = release('rel-a', [HTTP, GRPC]);
    await store.create(a.rollout, a.entry);
    const ended = aborted(a.rollout, T0 + 1000);
    expect(await store.commit(ended.next, ended.entry)).toEqual({ handedOff: null });
    expect(await holders([HTTP, GRPC])).toEqual([null, null]);
    expect(await store.findActive({})).toEqual([]);
    expect((await store.get('rel-a'))?.status.phase).toBe('Aborted');
    const b = release('rel-b', [GRPC, HTTP]);
    expect((await store.create(b.rollout, b.entry)).kind).toBe('created');
  });

  it('hands a route of the release to a one-route rollout queued for it, in the same terminal commit', async () => {
    const a = release('rel-a', [HTTP, GRPC]);
    await store.create(a.rollout, a.entry);
    const waiting = newRollout('waiting', { route: GRPC, whenRouteBusy: 'queue' }, T0 + 1);
    expect((await store.create(waiting.rollout, waiting.entry)).rollout.status.phase).toBe('Queued');
    const ended = aborted(a.rollout, T0 + 1000);
    const outcome = await store.commit(ended.next, ended.entry);
    expect(outcome.handedOff?.rollout.id).toBe('waiting');
    expect((await store.get('waiting'))?.status.phase).toBe('Pending');
    expect(await holders([HTTP, GRPC])).toEqual([null, 'waiting']);
  });

  it('keeps a one-route rollout as before: one lock, released at its end', async () => {
    const one = newRollout('one', { route: HTTP });
    await store.create(one.rollout, one.entry);
    const locks = await fs.db.collection('routeLocks').get();
    expect(locks.docs.map((d) => d.get('route'))).toEqual([HTTP]);
    expect(locks.docs[0]?.get('routes')).toEqual([HTTP]);
    const ended = aborted(one.rollout, T0 + 1000);
    await store.commit(ended.next, ended.entry);
    expect((await fs.db.collection('routeLocks').get()).size).toBe(0);
  });

  it('reads a lock stored before releases had several routes (no `routes` field)', async () => {
    await fs.db.collection('routeLocks').doc(HTTP.replaceAll('/', '~')).set({
      rolloutId: 'old',
      route: HTTP,
      routeName: 'shop',
      stableName: 'checkout-stable',
      canaryName: 'checkout-canary',
      canaryService: null,
    });
    expect(await store.findActive({ routeName: 'shop' })).toEqual([
      {
        rolloutId: 'old',
        route: HTTP,
        routeName: 'shop',
        stableName: 'checkout-stable',
        canaryName: 'checkout-canary',
        canaryService: null,
      },
    ]);
    const b = release('rel-b', [GRPC, HTTP]);
    await expect(store.create(b.rollout, b.entry)).rejects.toThrow(
      `route ${HTTP} already has an active rollout (old)`,
    );
    expect(await holders([GRPC])).toEqual([null]);
  });
});
