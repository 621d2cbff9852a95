/**
 * What Firestore says about starting this request (reads only): whether its rolloutId already
 * exists — a repeat starts nothing, a different request under that id is refused — and who holds
 * each route, which a request that rejects busy routes is refused for (the store's own errors).
 */
import type { RolloutRequest } from '../../core/request.ts';
import { canonical } from '../../core/routing/snapshot.ts';
import { routesOf } from '../../core/targets.ts';
import { RefusedError } from '../../errors.ts';
import { type RolloutStore, RouteLockedError, SpecConflictError } from '../../ports/rollout-store.ts';
import { problemOf } from './problems.ts';
import type { PlanProblem, StoreSection } from './report.ts';

export async function storeChecks(
  store: RolloutStore,
  request: RolloutRequest,
): Promise<{ readonly section: StoreSection; readonly problems: PlanProblem[] }> {
  const problems: PlanProblem[] = [];
  const id = request.rolloutId ?? null;
  const stored = id === null ? null : await store.get(id);
  if (id !== null && stored !== null) {
    problems.push(
      problemOf(
        'store',
        existing(id, stored.status.phase, canonical(stored.spec) === canonical(request), stored),
      ),
    );
  }
  const queues = await Promise.all(
    routesOf(request).map(async (route) => {
      const queue = await store.routeQueue(route);
      return { route, holder: queue.holder, waiting: queue.waiting.length };
    }),
  );
  const held = queues.find((q) => q.holder !== null && q.holder !== id);
  if (request.whenRouteBusy === 'reject' && held?.holder) {
    problems.push(problemOf('store', new RouteLockedError(held.route, held.holder)));
  }
  const section: StoreSection = {
    checked: true,
    existing: stored === null ? null : { id: stored.id, phase: stored.status.phase },
    whenRouteBusy: request.whenRouteBusy,
    queues,
  };
  return { section, problems };
}

function existing(
  id: string,
  phase: string,
  same: boolean,
  stored: ConstructorParameters<typeof SpecConflictError>[1],
): RefusedError {
  if (!same) return new SpecConflictError(id, stored);
  return new RefusedError(
    `rollout ${id} already exists (${phase}): this request is a repeat and starts nothing`,
    {
      code: 'ROLLOUT_EXISTS',
      hint: 'use a new rolloutId to start another rollout, or `rolloutctl retry` a finished one',
    },
  );
}
