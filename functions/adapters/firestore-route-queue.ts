/**
 * Busy routes on Firestore: the queue of a route and the hand-over of its lock.
 *
 *   routeLocks/{route}                 holder (`rolloutId`), `nextSeq` (arrival counter), `successor`
 *                                      (a superseder waiting to go first, or null)
 *   routeLocks/{route}/queue/{seq:010} one per queued rollout: {rolloutId, seq, queuedAt}
 *
 * Every history document is created together with its outbox event (`refs.record`), in the same
 * transaction. A queued or superseding request is created in a transaction that reads the route lock: free,
 * the rollout takes it (Pending, as with `reject`); busy, the rollout is created Queued with the
 * lock's counter as its arrival number and the counter bumped in the same commit — so arrival
 * order is commit order and two requests never share a number. The commit that makes the holder
 * terminal is a transaction too: it reads the lock and hands it to the successor, else to the
 * first queue entry, making that rollout Pending (due now) in the same commit; with nobody
 * waiting the lock is deleted. A release of several routes holds one lock per route (claimed
 * together at create, firestore-store.ts) and gives each up this way in its one terminal commit;
 * queue and supersede requests name one route. Transactions are used only for these (rare) commits; every other
 * commit stays a lock-free batch fenced on the history document (firestore-store.ts).
 */
import type {
  DocumentData,
  DocumentReference,
  DocumentSnapshot,
  Firestore,
  Transaction,
} from '@google-cloud/firestore';
import { type Created, dequeueRollout, displaceSuperseder, queueRollout } from '../core/queue.ts';
import type { HistoryEntry, Rollout } from '../core/state.ts';
import { primaryRoute, routesOf } from '../core/targets.ts';
import {
  type CommitOutcome,
  type CreateOutcome,
  DuplicateMessageError,
  type RouteQueue,
  VersionConflictError,
  type WriteOptions,
} from '../ports/rollout-store.ts';

/** Where the store keeps each document (shared with firestore-store.ts). */
export interface QueueRefs {
  readonly db: Firestore;
  rollout(id: string): DocumentReference;
  history(id: string, version: number): DocumentReference;
  /** Creates the history document of `entry` and its outbox event (firestore-store.ts). */
  record(w: Writes, r: Rollout, entry: HistoryEntry): void;
  lock(route: string): DocumentReference;
  processed(key: string): DocumentReference;
  processedRecord(key: string, now: number): Record<string, unknown>;
  lockRecord(r: Rollout, at: number): Record<string, unknown>;
  asRollout(id: string, data: unknown): Rollout;
}

/** A batch or a transaction: where a commit's creates go. */
export interface Writes {
  create(ref: DocumentReference, data: DocumentData): unknown;
}

/** Contention on one route lock is retried by the server SDK; 50 requests at once need more than its default 5. */
const MAX_ATTEMPTS = 60;
/** Queue entries read at a hand-over to find the first rollout still waiting. */
const HEAD_SCAN = 10;

function entryId(seq: number): string {
  return String(seq).padStart(10, '0');
}

function queueEntry(refs: QueueRefs, route: string, seq: number): DocumentReference {
  return refs.lock(route).collection('queue').doc(entryId(seq));
}

type CreateResult = CreateOutcome | { readonly kind: 'stored'; readonly rollout: Rollout };

/**
 * Creates a rollout whose request says `queue` or `supersede`: it takes the route when it is
 * free, else waits in the route's queue. `stored` when a rollout with this id already exists.
 */
export function createOrQueue(
  refs: QueueRefs,
  created: Created,
  options: WriteOptions,
): Promise<CreateResult> {
  const { rollout, entry } = created;
  const route = primaryRoute(rollout.spec);
  return refs.db.runTransaction(
    async (tx): Promise<CreateResult> => {
      const [stored, lock] = await tx.getAll(refs.rollout(rollout.id), refs.lock(route));
      if (stored?.exists) return { kind: 'stored', rollout: refs.asRollout(rollout.id, stored.data()) };
      await refuseDuplicate(refs, tx, options);
      if (lock === undefined || !lock.exists) {
        writeCreated(refs, tx, created, options);
        tx.create(refs.lock(route), { ...refs.lockRecord(rollout, entry.at), nextSeq: 1, successor: null });
        return { kind: 'created', rollout, entry, displaced: null };
      }
      return queueBehind(refs, tx, created, lock, options);
    },
    { maxAttempts: MAX_ATTEMPTS },
  );
}

async function queueBehind(
  refs: QueueRefs,
  tx: Transaction,
  created: Created,
  lock: DocumentSnapshot,
  options: WriteOptions,
): Promise<CreateOutcome> {
  const rollout = created.rollout;
  const route = primaryRoute(rollout.spec);
  const supersede = rollout.spec.whenRouteBusy === 'supersede';
  const seq = Number(lock.get('nextSeq') ?? 1);
  const waiting = lock.get('successor');
  const displacedId = supersede && typeof waiting === 'string' ? waiting : null;
  const displaced = displacedId === null ? null : await displace(refs, tx, displacedId, rollout.id, created);
  const place = { seq, holder: String(lock.get('rolloutId')), supersede, displaced: displacedId };
  const queued = queueRollout(created, place);
  writeCreated(refs, tx, queued, options);
  if (displaced !== null) {
    tx.set(refs.rollout(displaced.rollout.id), displaced.rollout);
    refs.record(tx, displaced.rollout, displaced.entry);
  }
  if (!supersede)
    tx.create(queueEntry(refs, route, seq), { rolloutId: rollout.id, seq, queuedAt: created.entry.at });
  tx.update(refs.lock(route), supersede ? { nextSeq: seq + 1, successor: rollout.id } : { nextSeq: seq + 1 });
  return { kind: 'created', rollout: queued.rollout, entry: queued.entry, displaced };
}

/** The superseder that was waiting, ended by the newer one (null if it is no longer waiting). */
async function displace(
  refs: QueueRefs,
  tx: Transaction,
  id: string,
  by: string,
  created: Created,
): Promise<Created | null> {
  const snapshot = await tx.get(refs.rollout(id));
  if (!snapshot.exists) return null;
  return displaceSuperseder(refs.asRollout(id, snapshot.data()), by, created.entry.at);
}

function writeCreated(refs: QueueRefs, tx: Transaction, created: Created, options: WriteOptions): void {
  tx.create(refs.rollout(created.rollout.id), created.rollout);
  refs.record(tx, created.rollout, created.entry);
  if (options.dedupeKey !== undefined) {
    tx.create(refs.processed(options.dedupeKey), refs.processedRecord(options.dedupeKey, created.entry.at));
  }
}

async function refuseDuplicate(refs: QueueRefs, tx: Transaction, options: WriteOptions): Promise<void> {
  if (options.dedupeKey === undefined) return;
  const seen = await tx.get(refs.processed(options.dedupeKey));
  if (seen.exists) throw new DuplicateMessageError(options.dedupeKey);
}

/**
 * Stores the first terminal version of a rollout (or a queued rollout's end) and, in the same
 * transaction, releases what it held: the lock of every route of the release passes to the next
 * rollout waiting for that route (made Pending, due now) or is deleted; a queued rollout leaves
 * the queue. Every lock and queue is read before anything is written (Firestore transactions).
 */
export function commitTerminal(
  refs: QueueRefs,
  next: Rollout,
  entry: HistoryEntry,
  options: WriteOptions,
): Promise<CommitOutcome> {
  const routes = routesOf(next.spec);
  return refs.db.runTransaction(
    async (tx): Promise<CommitOutcome> => {
      const [current, ...locks] = await tx.getAll(refs.rollout(next.id), ...routes.map((r) => refs.lock(r)));
      await refuseDuplicate(refs, tx, options);
      if (current === undefined || current.get('version') !== next.version - 1)
        throw new VersionConflictError(next.id, next.version);
      const ending = { next, entry, current };
      const releases: Release[] = [];
      for (const [i, route] of routes.entries()) {
        const lock = locks[i];
        if (lock?.exists === true) releases.push(await releaseLock(refs, tx, ending, { route, lock }));
      }
      for (const release of releases) release.write(tx);
      tx.set(refs.rollout(next.id), next);
      refs.record(tx, next, entry);
      if (options.dedupeKey !== undefined) {
        tx.create(refs.processed(options.dedupeKey), refs.processedRecord(options.dedupeKey, entry.at));
      }
      const [first, ...more] = releases.flatMap((r) => (r.handedOff === null ? [] : [r.handedOff]));
      return { handedOff: first ?? null, ...(more.length > 0 ? { alsoHandedOff: more } : {}) };
    },
    { maxAttempts: MAX_ATTEMPTS },
  );
}

/** What releasing one route's lock hands off, and its writes (made once every read is done). */
interface Release {
  readonly handedOff: Created | null;
  write(tx: Transaction): void;
}

/** What the ending rollout gives up on one route: the lock (handed on) or its place in the queue. */
async function releaseLock(
  refs: QueueRefs,
  tx: Transaction,
  ending: { readonly next: Rollout; readonly entry: HistoryEntry; readonly current: DocumentSnapshot },
  held: { readonly route: string; readonly lock: DocumentSnapshot },
): Promise<Release> {
  const { next, entry, current } = ending;
  const { route, lock } = held;
  const successor = lock.get('successor');
  if (lock.get('rolloutId') !== next.id) {
    // A queued rollout ends (aborted, or displaced by a newer superseder): it leaves the queue.
    const seq = entry.from.phase === 'Queued' ? current.get('status.seq') : null;
    return {
      handedOff: null,
      write: (w) => {
        if (typeof seq === 'number') w.delete(queueEntry(refs, route, seq));
        if (successor === next.id) w.update(refs.lock(route), { successor: null });
      },
    };
  }
  const head = await queueHead(refs, tx, route, typeof successor === 'string' ? successor : null);
  const handedOff = head.rollout === null ? null : dequeueRollout(head.rollout, next, entry.at);
  return {
    handedOff,
    write: (w) => {
      for (const stale of head.stale) w.delete(stale);
      if (handedOff === null) {
        w.delete(refs.lock(route));
        return;
      }
      w.set(refs.rollout(handedOff.rollout.id), handedOff.rollout);
      refs.record(w, handedOff.rollout, handedOff.entry);
      if (head.entry !== null) w.delete(head.entry);
      w.set(refs.lock(route), {
        ...refs.lockRecord(handedOff.rollout, entry.at),
        nextSeq: Number(lock.get('nextSeq') ?? 1),
        successor: null,
      });
    },
  };
}

interface Head {
  readonly rollout: Rollout | null;
  /** Its queue entry (null for the successor, which has none). */
  readonly entry: DocumentReference | null;
  /** Queue entries of rollouts no longer waiting. */
  readonly stale: readonly DocumentReference[];
}

/** The successor if it still waits, else the first queue entry whose rollout is still Queued. */
async function queueHead(
  refs: QueueRefs,
  tx: Transaction,
  route: string,
  successor: string | null,
): Promise<Head> {
  const entries = await tx.get(refs.lock(route).collection('queue').orderBy('seq').limit(HEAD_SCAN));
  const candidates: { id: string; entry: DocumentReference | null }[] = [
    ...(successor === null ? [] : [{ id: successor, entry: null }]),
    ...entries.docs.map((doc) => ({ id: String(doc.get('rolloutId')), entry: doc.ref })),
  ];
  const snapshots =
    candidates.length === 0 ? [] : await tx.getAll(...candidates.map((c) => refs.rollout(c.id)));
  const stale: DocumentReference[] = [];
  for (const [i, candidate] of candidates.entries()) {
    const snapshot = snapshots[i];
    if (snapshot?.exists && snapshot.get('status.phase') === 'Queued') {
      return { rollout: refs.asRollout(candidate.id, snapshot.data()), entry: candidate.entry, stale };
    }
    if (candidate.entry !== null) stale.push(candidate.entry);
  }
  return { rollout: null, entry: null, stale };
}

/** The route's holder and the rollouts waiting for it, first in line first (one consistent read). */
export function routeQueue(refs: QueueRefs, route: string): Promise<RouteQueue> {
  return refs.db.runTransaction(
    async (tx): Promise<RouteQueue> => {
      const lock = await tx.get(refs.lock(route));
      if (!lock.exists) return { route, holder: null, waiting: [] };
      const entries = await tx.get(refs.lock(route).collection('queue').orderBy('seq'));
      const successor = lock.get('successor');
      const ids = [
        ...(typeof successor === 'string' ? [successor] : []),
        ...entries.docs.map((doc) => String(doc.get('rolloutId'))),
      ];
      return {
        route,
        holder: String(lock.get('rolloutId')),
        waiting: ids.map((rolloutId, i) => ({
          rolloutId,
          position: i + 1,
          supersedes: rolloutId === successor,
        })),
      };
    },
    { readOnly: true },
  );
}
