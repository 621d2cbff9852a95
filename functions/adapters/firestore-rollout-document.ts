/**
 * How a rollout is stored in rollouts/{id}: the Rollout as the core has it, plus `routes`, every
 * route of its release (targets.ts routesOf), so `history --route R` can find it with one
 * array-contains query (infra/firestore.tf: index rollouts_by_route). Written on every write of
 * the document and dropped again when it is read, so the core never sees it.
 *
 * Documents stored before `routes` existed lack it until their next version is written (any
 * change rewrites the whole document); a rollout that ended before then is listed by
 * `history` without `--route` but not found by a route filter.
 */
import type { DocumentData, FirestoreDataConverter, QueryDocumentSnapshot } from '@google-cloud/firestore';
import type { RolloutRequest } from '../core/request.ts';
import { routesOf } from '../core/targets.ts';

/** The stored field `history --route` queries (array-contains). */
export const ROUTES_FIELD = 'routes';

/**
 * The composite index `list` with a route filter needs (infra/firestore.tf
 * google_firestore_index.rollouts_by_route, checked by test/infra/firestore-indexes.test.ts):
 * `routes` array-contains, then createdAt and the document id, newest first. The adapter builds
 * its query from these names.
 */
export const ROLLOUTS_BY_ROUTE = {
  collection: 'rollouts',
  contains: ROUTES_FIELD,
  orderBy: 'createdAt',
  direction: 'desc',
} as const;

function withRoutes(data: DocumentData): DocumentData {
  const spec = data['spec'] as RolloutRequest | undefined;
  if (typeof spec !== 'object' || spec === null) return data;
  return { ...data, [ROUTES_FIELD]: [...routesOf(spec)] };
}

export const rolloutDocument: FirestoreDataConverter<DocumentData, DocumentData> = {
  toFirestore: (data: DocumentData) => withRoutes(data),
  fromFirestore(snapshot: QueryDocumentSnapshot): DocumentData {
    const { [ROUTES_FIELD]: _routes, ...rollout } = snapshot.data();
    return rollout;
  },
};
