/**
 * A RolloutStore decorator that counts the Firestore documents read through it, the way Firestore
 * bills them: one per document fetched or returned by a query, and at least one per query. Wraps
 * the production FirestoreRolloutStore in tests and benchmarks; it changes nothing it passes on.
 * (A commit Firestore refuses reads one more document inside the adapter — the message's dedupe
 * record, to tell a redelivery from a version conflict; that read is not counted here.)
 */
import type { OutboxEvent } from '../functions/core/events.ts';
import type { HistoryEntry, OperationState, Rollout, RouteOperation } from '../functions/core/state.ts';
import type {
  ActiveRollout,
  CommitOutcome,
  CreateOutcome,
  Page,
  PageCursor,
  RolloutQuery,
  RolloutStore,
  RouteQueue,
  WriteOptions,
} from '../functions/ports/rollout-store.ts';

export interface ReadCounts {
  /** Documents read by `get` (one each). */
  gets: number;
  /** Documents returned by queries (at least one billed per query). */
  queried: number;
  queries: number;
}

export class CountingStore implements RolloutStore {
  readonly #inner: RolloutStore;
  counts: ReadCounts = { gets: 0, queried: 0, queries: 0 };

  constructor(inner: RolloutStore) {
    this.#inner = inner;
  }

  /** Documents billed so far: every `get`, and every query's documents (at least one each). */
  get billed(): number {
    return this.counts.gets + this.counts.queried;
  }

  reset(): ReadCounts {
    const before = this.counts;
    this.counts = { gets: 0, queried: 0, queries: 0 };
    return before;
  }

  #query(documents: number): void {
    this.counts.queries += 1;
    this.counts.queried += Math.max(1, documents);
  }

  async #page<T>(page: Promise<Page<T>>): Promise<Page<T>> {
    const p = await page;
    this.#query(p.items.length);
    return p;
  }

  async #list<T>(list: Promise<T[]>): Promise<T[]> {
    const items = await list;
    this.#query(items.length);
    return items;
  }

  create(rollout: Rollout, entry: HistoryEntry, options?: WriteOptions): Promise<CreateOutcome> {
    return this.#inner.create(rollout, entry, options);
  }

  async get(id: string): Promise<Rollout | null> {
    this.counts.gets += 1;
    return this.#inner.get(id);
  }

  commit(next: Rollout, entry: HistoryEntry, options?: WriteOptions): Promise<CommitOutcome> {
    return this.#inner.commit(next, entry, options);
  }

  routeQueue(route: string): Promise<RouteQueue> {
    return this.#inner.routeQueue(route);
  }

  history(id: string): Promise<HistoryEntry[]> {
    return this.#list(this.#inner.history(id));
  }

  due(now: number, limit: number, after?: PageCursor | null): Promise<Page<Rollout>> {
    return this.#page(this.#inner.due(now, limit, after));
  }

  waiting(limit: number, after?: PageCursor | null): Promise<Page<Rollout>> {
    return this.#page(this.#inner.waiting(limit, after));
  }

  list(query: RolloutQuery, limit: number, after?: PageCursor | null): Promise<Page<Rollout>> {
    return this.#page(this.#inner.list(query, limit, after));
  }

  findActive(
    match: Partial<Pick<ActiveRollout, 'rolloutId' | 'routeName' | 'canaryName' | 'canaryService'>>,
  ): Promise<ActiveRollout[]> {
    return this.#list(this.#inner.findActive(match));
  }

  async hasProcessed(key: string): Promise<boolean> {
    this.counts.gets += 1;
    return this.#inner.hasProcessed(key);
  }

  claimDriverStart(rolloutId: string, token: string, now: number, staleAfterMs: number): Promise<boolean> {
    return this.#inner.claimDriverStart(rolloutId, token, now, staleAfterMs);
  }

  releaseDriverStart(rolloutId: string, token: string): Promise<void> {
    return this.#inner.releaseDriverStart(rolloutId, token);
  }

  pendingEvents(createdBefore: number, limit: number, after?: PageCursor | null): Promise<Page<OutboxEvent>> {
    return this.#page(this.#inner.pendingEvents(createdBefore, limit, after));
  }

  eventsPublished(eventIds: readonly string[]): Promise<void> {
    return this.#inner.eventsPublished(eventIds);
  }

  recordOperation(operation: RouteOperation): Promise<void> {
    return this.#inner.recordOperation(operation);
  }

  settleOperation(name: string, state: Exclude<OperationState, 'pending'>, at: number): Promise<void> {
    return this.#inner.settleOperation(name, state, at);
  }

  pendingOperations(rolloutId: string): Promise<RouteOperation[]> {
    return this.#list(this.#inner.pendingOperations(rolloutId));
  }

  strayOperations(
    startedBefore: number,
    limit: number,
    after?: PageCursor | null,
  ): Promise<Page<RouteOperation>> {
    return this.#page(this.#inner.strayOperations(startedBefore, limit, after));
  }
}
