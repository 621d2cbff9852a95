/**
 * RolloutStore on Firestore.
 *
 * Collections:
 *   rollouts/{id}                      the rollout document (core state as stored, plus `routes`:
 *                                      firestore-rollout-document.ts)
 *   rollouts/{id}/history/{version}    one entry per change, id = zero-padded version
 *   routeLocks/{route with / → ~}      the one active rollout of a route
 *   processedMessages/{key}            message ids already handled; `expireAt` is the TTL field
 *   routeOperations/{operation}        route operations the controller started, and what became of them
 *   driverStarts/{id}                  who is starting the rollout's workflow execution, since when
 *   outbox/{eventId}                   the lifecycle event of a history entry, created in the same
 *                                      commit as the entry, deleted once published
 *
 * Every change is one atomic commit that *creates* the history document of the new version.
 * History documents are never rewritten, so that create is the optimistic-concurrency fence:
 * of several writers that computed version v+1 from version v, exactly one commit succeeds and
 * the others fail with ALREADY_EXISTS, without holding locks (Firestore's server SDK
 * transactions are pessimistic and make concurrent drivers wait on each other). The route
 * locks — one per route of the release, each naming that route, its stable and canary, and
 * every route of the release (`routes`) — are all claimed in the commit that creates the
 * rollout and all deleted in the commit that makes it terminal.
 *
 * Outbox query: createdAt <= t ORDER BY createdAt, __name__ — the automatic single-field index.
 *
 * Due-rollouts query: nextActionAt <= now ORDER BY nextActionAt, __name__ — one range on the
 * automatic single-field index, paged by cursors on (nextActionAt, document id). Only active
 * phases have a next action time (the core sets null otherwise); the phase is checked on the
 * documents read rather than in the query (an IN on the phase needed a composite index and
 * made every page a disjunction).
 */
import {
  type CollectionReference,
  type DocumentReference,
  FieldPath,
  type Firestore,
  type Query,
  Timestamp,
} from '@google-cloud/firestore';
import { type OutboxEvent, outboxEventOf } from '../core/events.ts';
import { lastSegment } from '../core/resource-name.ts';
import {
  ACTIVE_PHASES,
  type HistoryEntry,
  isTerminal,
  type OperationState,
  type Rollout,
  type RouteOperation,
} from '../core/state.ts';
import { primaryRoute, routesOf, type Target, targetsOf } from '../core/targets.ts';
import { RefusedError, TransientError } from '../errors.ts';
import {
  type ActiveRollout,
  type CommitOutcome,
  type CreateOutcome,
  DuplicateMessageError,
  type Page,
  type PageCursor,
  type RolloutQuery,
  type RolloutStore,
  RouteLockedError,
  type RouteQueue,
  SpecConflictError,
  VersionConflictError,
  type WriteOptions,
} from '../ports/rollout-store.ts';
import { ROLLOUTS_BY_ROUTE, rolloutDocument } from './firestore-rollout-document.ts';
import {
  commitTerminal,
  createOrQueue,
  type QueueRefs,
  routeQueue,
  type Writes,
} from './firestore-route-queue.ts';
import { classifyGoogleError } from './google-errors.ts';

/** google.rpc.Code ALREADY_EXISTS: the create that fences every commit found its document taken. */
const ALREADY_EXISTS = 6;
/** google.rpc.Code FAILED_PRECONDITION: an update fenced on an update time lost to another writer. */
const FAILED_PRECONDITION = 9;
/** google.rpc.Code NOT_FOUND: the document to update was deleted meanwhile. */
const NOT_FOUND = 5;

export interface FirestoreStoreOptions {
  /** How long processed message ids are kept (Firestore TTL deletes them after `expireAt`). */
  readonly messageTtlMs?: number;
}

function lockId(route: string): string {
  return route.replaceAll('/', '~');
}

function messageId(key: string): string {
  return key.replaceAll('/', '~');
}

function operationId(name: string): string {
  return name.replaceAll('/', '~');
}

function outboxId(eventId: string): string {
  return eventId.replaceAll('/', '~');
}

function asOutboxEvent(id: string, data: unknown): OutboxEvent {
  const candidate = data as Partial<OutboxEvent> | undefined;
  if (typeof candidate?.eventId !== 'string' || typeof candidate.createdAt !== 'number') {
    throw new RefusedError(`outbox document ${id} is not in the expected shape`, {
      code: 'STORE_CORRUPT',
      hint: 'the document was edited outside the controller; delete it (its change is in the history)',
    });
  }
  return data as OutboxEvent;
}

function historyId(version: number): string {
  return String(version).padStart(10, '0');
}

/** Key order does not matter when comparing two requests. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function translate(error: unknown, doing: string): Error {
  const failure = classifyGoogleError(error);
  switch (failure.kind) {
    case 'transient':
    case 'conflict':
      return new TransientError(`Firestore failed while ${doing}: ${failure.detail}`, {
        code: 'STORE_UNAVAILABLE',
        hint: 'retried automatically; check Firestore status if it persists',
        cause: error,
      });
    case 'permissionDenied':
    case 'unauthenticated':
      return new RefusedError(`Firestore refused ${doing}: ${failure.detail}`, {
        code: 'STORE_PERMISSION_DENIED',
        hint: "grant the function's service account roles/datastore.user",
        cause: error,
      });
    default:
      return error instanceof Error ? error : new Error(failure.detail);
  }
}

function asRollout(id: string, data: unknown): Rollout {
  const candidate = data as Partial<Rollout> | undefined;
  if (typeof candidate?.version !== 'number' || typeof candidate.status?.phase !== 'string') {
    throw new RefusedError(`rollout document ${id} is not in the expected shape`, {
      code: 'STORE_CORRUPT',
      hint: 'the document was edited outside the controller; restore it from its history or delete it',
    });
  }
  return data as Rollout;
}

/**
 * The lock record of one route of a release (default: its first): that route, its own stable and
 * canary (what alert labels name), and every route of the release.
 */
function activeRecord(r: Rollout, route = primaryRoute(r.spec)): ActiveRollout {
  const canarySource = r.plan.analysis.metrics.canary;
  const targets = targetsOf(r.spec);
  const target = targets.find((t) => t.route === route) ?? (targets[0] as Target);
  return {
    rolloutId: r.id,
    route,
    routes: targets.map((t) => t.route),
    routeName: lastSegment(route),
    stableName: lastSegment(target.stable),
    canaryName: lastSegment(target.canary),
    canaryService: canarySource.preset === 'cloudRun' ? canarySource.service : null,
  };
}

function activeFromLock(d: Record<string, unknown>): ActiveRollout {
  const routes = d['routes'];
  return {
    rolloutId: String(d['rolloutId']),
    route: String(d['route']),
    ...(Array.isArray(routes) ? { routes: routes.map(String) } : {}),
    routeName: String(d['routeName']),
    stableName: String(d['stableName']),
    canaryName: String(d['canaryName']),
    canaryService: typeof d['canaryService'] === 'string' ? d['canaryService'] : null,
  };
}

export class FirestoreRolloutStore implements RolloutStore {
  readonly #db: Firestore;
  readonly #messageTtlMs: number;

  constructor(db: Firestore, options: FirestoreStoreOptions = {}) {
    this.#db = db;
    this.#messageTtlMs = options.messageTtlMs ?? 7 * 24 * 3600 * 1000;
  }

  /** rollouts/, read and written with `routes` kept in step (firestore-rollout-document.ts). */
  get #rollouts(): CollectionReference {
    return this.#db.collection('rollouts').withConverter(rolloutDocument);
  }

  #rollout(id: string): DocumentReference {
    return this.#rollouts.doc(id);
  }

  #history(id: string, version: number): DocumentReference {
    return this.#rollout(id).collection('history').doc(historyId(version));
  }

  #outbox(eventId: string): DocumentReference {
    return this.#db.collection('outbox').doc(outboxId(eventId));
  }

  /** The history document of `entry` and its outbox event, created in the same commit `w`. */
  #record(w: Writes, r: Rollout, entry: HistoryEntry): void {
    const event = outboxEventOf(r, entry);
    w.create(this.#history(r.id, entry.version), entry);
    w.create(this.#outbox(event.eventId), event);
  }

  #lock(route: string): DocumentReference {
    return this.#db.collection('routeLocks').doc(lockId(route));
  }

  #processed(key: string): DocumentReference {
    return this.#db.collection('processedMessages').doc(messageId(key));
  }

  #operation(name: string): DocumentReference {
    return this.#db.collection('routeOperations').doc(operationId(name));
  }

  #processedRecord(key: string, now: number) {
    return {
      key,
      processedAt: Timestamp.fromMillis(now),
      expireAt: Timestamp.fromMillis(now + this.#messageTtlMs),
    };
  }

  /** The documents the route queue's transactions use (firestore-route-queue.ts). */
  get #queueRefs(): QueueRefs {
    return {
      db: this.#db,
      rollout: (id) => this.#rollout(id),
      history: (id, version) => this.#history(id, version),
      record: (w, r, entry) => this.#record(w, r, entry),
      lock: (route) => this.#lock(route),
      processed: (key) => this.#processed(key),
      processedRecord: (key, now) => this.#processedRecord(key, now),
      lockRecord: (r, at) => ({ ...activeRecord(r), claimedAt: Timestamp.fromMillis(at) }),
      asRollout,
    };
  }

  async create(rollout: Rollout, entry: HistoryEntry, options: WriteOptions = {}): Promise<CreateOutcome> {
    if (rollout.spec.whenRouteBusy !== 'reject') return this.#createOrQueue(rollout, entry, options);
    const batch = this.#db.batch();
    batch.create(this.#rollout(rollout.id), rollout);
    this.#record(batch, rollout, entry);
    // Every route of the release in this one atomic commit: one lock taken fails them all.
    for (const route of routesOf(rollout.spec)) {
      batch.create(this.#lock(route), {
        ...activeRecord(rollout, route),
        claimedAt: Timestamp.fromMillis(entry.at),
      });
    }
    if (options.dedupeKey !== undefined) {
      batch.create(this.#processed(options.dedupeKey), this.#processedRecord(options.dedupeKey, entry.at));
    }
    try {
      await batch.commit();
      return { kind: 'created', rollout };
    } catch (error) {
      if (grpcCode(error) !== ALREADY_EXISTS) throw translate(error, `creating rollout ${rollout.id}`);
    }
    const stored = await this.get(rollout.id);
    if (stored !== null) {
      if (canonical(stored.spec) === canonical(rollout.spec)) return { kind: 'exists', rollout: stored };
      throw new SpecConflictError(rollout.id, stored);
    }
    await this.#refuseBusy(rollout);
    if (options.dedupeKey !== undefined && (await this.hasProcessed(options.dedupeKey))) {
      throw new DuplicateMessageError(options.dedupeKey);
    }
    throw new TransientError(`creating rollout ${rollout.id} raced with another writer`, {
      code: 'STORE_RACE',
      hint: 'retried automatically',
    });
  }

  /** RouteLockedError naming the first route of the release that another rollout holds. */
  async #refuseBusy(rollout: Rollout): Promise<void> {
    const routes = routesOf(rollout.spec);
    const locks = await this.#db
      .getAll(...routes.map((route) => this.#lock(route)))
      .catch((error: unknown) => {
        throw translate(error, `reading the route locks of ${rollout.id}`);
      });
    for (const [i, lock] of locks.entries()) {
      if (lock.exists) throw new RouteLockedError(routes[i] as string, String(lock.get('rolloutId')));
    }
  }

  /** `queue` and `supersede`: a transaction on the route lock (arrival order = commit order). */
  async #createOrQueue(rollout: Rollout, entry: HistoryEntry, options: WriteOptions): Promise<CreateOutcome> {
    let outcome: Awaited<ReturnType<typeof createOrQueue>>;
    try {
      outcome = await createOrQueue(this.#queueRefs, { rollout, entry }, options);
    } catch (error) {
      if (error instanceof DuplicateMessageError) throw error;
      throw translate(error, `creating rollout ${rollout.id}`);
    }
    if (outcome.kind !== 'stored') return outcome;
    if (canonical(outcome.rollout.spec) === canonical(rollout.spec))
      return { kind: 'exists', rollout: outcome.rollout };
    throw new SpecConflictError(rollout.id, outcome.rollout);
  }

  async routeQueue(route: string): Promise<RouteQueue> {
    try {
      return await routeQueue(this.#queueRefs, route);
    } catch (error) {
      throw translate(error, `reading the queue of ${route}`);
    }
  }

  async get(id: string): Promise<Rollout | null> {
    try {
      const snapshot = await this.#rollout(id).get();
      return snapshot.exists ? asRollout(id, snapshot.data()) : null;
    } catch (error) {
      throw translate(error, `reading rollout ${id}`);
    }
  }

  async commit(next: Rollout, entry: HistoryEntry, options: WriteOptions = {}): Promise<CommitOutcome> {
    if (entry.version !== next.version)
      throw new Error('history entry version must equal the rollout version');
    // The first terminal version releases what the rollout held — the route lock, handed to the
    // next rollout waiting, or its place in the queue — in one transaction on the lock.
    // (A terminal rollout can still record a restore of its route; that never touches the lock.)
    if (isTerminal(next.status.phase) && !isTerminal(entry.from.phase)) {
      return this.#commitTerminal(next, entry, options);
    }
    const batch = this.#db.batch();
    batch.set(this.#rollout(next.id), next);
    this.#record(batch, next, entry);
    if (options.dedupeKey !== undefined) {
      batch.create(this.#processed(options.dedupeKey), this.#processedRecord(options.dedupeKey, entry.at));
    }
    try {
      await batch.commit();
    } catch (error) {
      if (grpcCode(error) !== ALREADY_EXISTS)
        throw translate(error, `storing version ${next.version} of ${next.id}`);
      // The message's key recorded means this message already made its change (a redelivery:
      // nothing to decide again); otherwise the version was taken by another writer.
      if (options.dedupeKey !== undefined && (await this.hasProcessed(options.dedupeKey)))
        throw new DuplicateMessageError(options.dedupeKey);
      throw new VersionConflictError(next.id, next.version);
    }
    return { handedOff: null };
  }

  async #commitTerminal(next: Rollout, entry: HistoryEntry, options: WriteOptions): Promise<CommitOutcome> {
    try {
      return await commitTerminal(this.#queueRefs, next, entry, options);
    } catch (error) {
      if (error instanceof DuplicateMessageError || error instanceof VersionConflictError) throw error;
      // The history document of this version exists: another writer took it.
      if (grpcCode(error) === ALREADY_EXISTS) throw new VersionConflictError(next.id, next.version);
      throw translate(error, `storing version ${next.version} of ${next.id}`);
    }
  }

  async history(id: string): Promise<HistoryEntry[]> {
    try {
      const snapshot = await this.#rollout(id).collection('history').orderBy('version').get();
      return snapshot.docs.map((doc) => doc.data() as HistoryEntry);
    } catch (error) {
      throw translate(error, `reading the history of ${id}`);
    }
  }

  async due(now: number, limit: number, after: PageCursor | null = null): Promise<Page<Rollout>> {
    // Only active phases have a next action time (the core clears it otherwise); the phase is
    // checked on the documents read rather than in the query, which stays a single range scan.
    const query = this.#rollouts
      .where('nextActionAt', '<=', now)
      .orderBy('nextActionAt')
      .orderBy(FieldPath.documentId());
    const page = await this.#rolloutPage(
      query,
      limit,
      after,
      (r) => [r.nextActionAt ?? now, r.id],
      'listing due rollouts',
    );
    return { ...page, items: page.items.filter((r) => ACTIVE_PHASES.includes(r.status.phase)) };
  }

  async waiting(limit: number, after: PageCursor | null = null): Promise<Page<Rollout>> {
    const query = this.#rollouts
      .where('status.phase', '==', 'ActionRequired')
      .orderBy(FieldPath.documentId());
    return this.#rolloutPage(query, limit, after, (r) => [r.id], 'listing rollouts that wait for a person');
  }

  async list(query: RolloutQuery, limit: number, after: PageCursor | null = null): Promise<Page<Rollout>> {
    // route: array-contains on `routes` with createdAt, the composite index rollouts_by_route
    // (infra/firestore.tf); without it, the automatic single-field index on createdAt.
    const { contains, orderBy, direction } = ROLLOUTS_BY_ROUTE;
    let q: Query = this.#rollouts;
    if (query.route !== undefined) q = q.where(contains, 'array-contains', query.route);
    if (query.since !== undefined) q = q.where(orderBy, '>=', query.since);
    q = q.orderBy(orderBy, direction).orderBy(FieldPath.documentId(), direction);
    return this.#rolloutPage(q, limit, after, (r) => [r.createdAt, r.id], 'listing rollouts');
  }

  /** One page of a rollout query ordered by `key` (whose last element is the document id). */
  async #rolloutPage(
    query: Query,
    limit: number,
    after: PageCursor | null,
    key: (r: Rollout) => PageCursor,
    doing: string,
  ): Promise<Page<Rollout>> {
    try {
      const snapshot = await (after === null ? query : query.startAfter(...after)).limit(limit).get();
      const items = snapshot.docs.map((doc) => asRollout(doc.id, doc.data()));
      const last = items.at(-1);
      return { items, next: items.length < limit || last === undefined ? null : key(last) };
    } catch (error) {
      throw translate(error, doing);
    }
  }

  async findActive(
    match: Partial<Pick<ActiveRollout, 'rolloutId' | 'routeName' | 'canaryName' | 'canaryService'>>,
  ): Promise<ActiveRollout[]> {
    let query: Query = this.#db.collection('routeLocks');
    for (const [field, value] of Object.entries(match)) {
      if (value !== undefined) query = query.where(field, '==', value);
    }
    try {
      const snapshot = await query.get();
      // A release of several routes holds one lock per route: one record per rollout.
      const records = snapshot.docs.map((doc) => activeFromLock(doc.data()));
      return records.filter((a, i) => records.findIndex((b) => b.rolloutId === a.rolloutId) === i);
    } catch (error) {
      throw translate(error, 'finding active rollouts');
    }
  }

  async hasProcessed(key: string): Promise<boolean> {
    try {
      return (await this.#processed(key).get()).exists;
    } catch (error) {
      throw translate(error, `looking up message ${key}`);
    }
  }

  async claimDriverStart(
    rolloutId: string,
    token: string,
    now: number,
    staleAfterMs: number,
  ): Promise<boolean> {
    const ref = this.#db.collection('driverStarts').doc(rolloutId);
    const claim = { token, claimedAt: now };
    // A claim released between our create and our read is gone: try to create it again (a few times).
    for (let attempt = 0; attempt < 3; attempt += 1) {
      try {
        await ref.create(claim);
        return true;
      } catch (error) {
        if (grpcCode(error) !== ALREADY_EXISTS) throw translate(error, `claiming the start of ${rolloutId}`);
      }
      const held = await ref.get().catch((error: unknown) => {
        throw translate(error, `claiming the start of ${rolloutId}`);
      });
      if (!held.exists || held.updateTime === undefined) continue;
      if (Number(held.get('claimedAt')) > now - staleAfterMs) return false;
      // Taking over a stale claim is fenced on the claim as read: of two takers, one wins.
      try {
        await ref.update(claim, { lastUpdateTime: held.updateTime });
        return true;
      } catch (error) {
        if (grpcCode(error) === FAILED_PRECONDITION || grpcCode(error) === NOT_FOUND) return false;
        throw translate(error, `claiming the start of ${rolloutId}`);
      }
    }
    return false;
  }

  async releaseDriverStart(rolloutId: string, token: string): Promise<void> {
    const ref = this.#db.collection('driverStarts').doc(rolloutId);
    try {
      const held = await ref.get();
      if (!held.exists || held.get('token') !== token || held.updateTime === undefined) return;
      await ref.delete({ lastUpdateTime: held.updateTime });
    } catch (error) {
      if (grpcCode(error) === FAILED_PRECONDITION) return; // someone else holds it now
      throw translate(error, `releasing the start of ${rolloutId}`);
    }
  }

  async pendingEvents(
    createdBefore: number,
    limit: number,
    after: PageCursor | null = null,
  ): Promise<Page<OutboxEvent>> {
    const query = this.#db
      .collection('outbox')
      .where('createdAt', '<=', createdBefore)
      .orderBy('createdAt')
      .orderBy(FieldPath.documentId());
    try {
      const snapshot = await (after === null ? query : query.startAfter(...after)).limit(limit).get();
      const items = snapshot.docs.map((doc) => asOutboxEvent(doc.id, doc.data()));
      const last = snapshot.docs.at(-1);
      const next =
        items.length < limit || last === undefined ? null : [Number(last.get('createdAt')), last.id];
      return { items, next };
    } catch (error) {
      throw translate(error, 'listing the events waiting to be published');
    }
  }

  async eventsPublished(eventIds: readonly string[]): Promise<void> {
    // A batch holds at most 500 writes.
    for (let i = 0; i < eventIds.length; i += 500) {
      const batch = this.#db.batch();
      for (const id of eventIds.slice(i, i + 500)) batch.delete(this.#outbox(id));
      try {
        await batch.commit();
      } catch (error) {
        throw translate(error, 'removing published events from the outbox');
      }
    }
  }

  async recordOperation(operation: RouteOperation): Promise<void> {
    try {
      await this.#operation(operation.name).create({ ...operation, state: 'pending' });
    } catch (error) {
      if (grpcCode(error) !== ALREADY_EXISTS) throw translate(error, `recording operation ${operation.name}`);
    }
  }

  async settleOperation(name: string, state: Exclude<OperationState, 'pending'>, at: number): Promise<void> {
    try {
      await this.#operation(name).set({ state, settledAt: at }, { merge: true });
    } catch (error) {
      throw translate(error, `recording what became of operation ${name}`);
    }
  }

  async pendingOperations(rolloutId: string): Promise<RouteOperation[]> {
    return this.#operations(
      this.#db
        .collection('routeOperations')
        .where('rolloutId', '==', rolloutId)
        .where('state', '==', 'pending'),
      `listing the pending route operations of ${rolloutId}`,
    );
  }

  async strayOperations(
    startedBefore: number,
    limit: number,
    after: PageCursor | null = null,
  ): Promise<Page<RouteOperation>> {
    const query = this.#db
      .collection('routeOperations')
      .where('state', '==', 'pending')
      .where('startedAt', '<=', startedBefore)
      .orderBy('startedAt')
      .orderBy(FieldPath.documentId());
    const items = await this.#operations(
      (after === null ? query : query.startAfter(...after)).limit(limit),
      'listing route operations that never reported back',
    );
    const last = items.at(-1);
    return {
      items,
      next: items.length < limit || last === undefined ? null : [last.startedAt, operationId(last.name)],
    };
  }

  async #operations(query: Query, doing: string): Promise<RouteOperation[]> {
    try {
      const snapshot = await query.get();
      return snapshot.docs
        .map((doc) => {
          const d = doc.data();
          return {
            name: String(d['name']),
            rolloutId: String(d['rolloutId']),
            route: String(d['route']),
            intentId: Number(d['intentId']),
            weights: d['weights'] as RouteOperation['weights'],
            startedAt: Number(d['startedAt']),
          };
        })
        .sort((a, b) => a.startedAt - b.startedAt);
    } catch (error) {
      throw translate(error, doing);
    }
  }
}
