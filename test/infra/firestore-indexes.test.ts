/**
 * The composite index infra/ creates for `rolloutctl history --route` is the one the Firestore
 * adapter's query needs: the same collection and fields, in the same order and directions.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ROLLOUTS_BY_ROUTE, ROUTES_FIELD } from '../../functions/adapters/firestore-rollout-document.ts';
import { hcl, INFRA, loadModule, type Module, resource } from './terraform.ts';

let root: Module;

beforeAll(async () => {
  root = await loadModule(INFRA);
});

describe('Firestore index of rolloutctl history --route', () => {
  it('matches the fields the adapter queries: routes array-contains, then createdAt and the id, newest first', () => {
    const index = resource(root, 'google_firestore_index.rollouts_by_route');
    const order = ROLLOUTS_BY_ROUTE.direction === 'desc' ? 'DESCENDING' : 'ASCENDING';
    expect(index['collection']).toBe(ROLLOUTS_BY_ROUTE.collection);
    expect(index['query_scope']).toBe('COLLECTION');
    expect(index['database']).toBe(hcl('local.firestore_database'));
    expect(index['fields']).toEqual([
      { field_path: ROLLOUTS_BY_ROUTE.contains, array_config: 'CONTAINS' },
      { field_path: ROLLOUTS_BY_ROUTE.orderBy, order },
      { field_path: '__name__', order },
    ]);
  });

  it('indexes the field the adapter writes on every rollout document', () => {
    expect(ROLLOUTS_BY_ROUTE.contains).toBe(ROUTES_FIELD);
  });
});
