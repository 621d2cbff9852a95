/**
 * Port: where rollouts, their history, route locks and processed message ids live
 * (production adapter: Firestore).
 */
import type { OutboxEvent } from '../core/events.ts';
import type { Created } from '../core/queue.ts';
import type { HistoryEntry, OperationState, Rollout, RouteOperation } from '../core/state.ts';
import { ConflictError, RefusedError } from '../errors.ts';

export type CreateOutcome =
  | {
      readonly kind: 'created';
      /** As stored: Pending with the route lock, or Queued when the route was busy (queue, supersede). */
      readonly rollout: Rollout;
      /** Its first history entry as stored (absent: the one given). */
      readonly entry?: HistoryEntry;
      /** A superseder that was waiting and was ended (Aborted) in the same commit by this one. */
      readonly displaced?: Created | null;
    }
  /** Same id, same request: nothing was written; here is the stored rollout. */
  | { readonly kind: 'exists'; readonly rollout: Rollout };

export interface ActiveRollout {
  readonly rolloutId: string;
  /** The locked route this record was found by (a release of several routes holds one lock each). */
  readonly route: string;
  /** Every route of the release, in the request's order (absent on locks stored before releases had several). */
  readonly routes?: readonly string[];
  /** Last segments of the route, its stable and canary backend names, for mapping alert labels. */
  readonly routeName: string;
  readonly stableName: string;
  readonly canaryName: string;
  /** Cloud Run service the canary's metrics come from, when it has one. */
  readonly canaryService: string | null;
}

/**
 * Where the next page of a listing starts: pass back what the previous page returned. Opaque to
 * callers (the adapter's own sort key of the last item).
 */
export type PageCursor = readonly (string | number)[];

export interface Page<T> {
  readonly items: readonly T[];
  /** Null when this was the last page. */
  readonly next: PageCursor | null;
}

/** Which rollouts `list` returns (every given field must match). */
export interface RolloutQuery {
  /** A full route name: rollouts with this route among their release's routes. */
  readonly route?: string;
  /** Epoch milliseconds: rollouts created at or after it. */
  readonly since?: number;
}

/** What a commit did besides storing the version. */
export interface CommitOutcome {
  /** The rollout the route lock was handed to (made Pending, due now) in the same commit, if any. */
  readonly handedOff: Created | null;
  /**
   * A release of several routes: the rollouts other routes' locks were handed to in the same
   * commit (made Pending, due now: the tick drives them if nobody else does).
   */
  readonly alsoHandedOff?: readonly Created[];
}

/** A route's active rollout and the rollouts waiting for it, first in line first. */
export interface RouteQueue {
  readonly route: string;
  /** Null when the route is free. */
  readonly holder: string | null;
  readonly waiting: readonly {
    readonly rolloutId: string;
    /** 1 = next to take the route. */
    readonly position: number;
    /** True for a superseder (first in line; the holder is being ended for it). */
    readonly supersedes: boolean;
  }[];
}

export interface WriteOptions {
  /** Records this key as processed in the same commit; a second commit with it fails with DuplicateMessageError. */
  readonly dedupeKey?: string;
}

export interface RolloutStore {
  /**
   * Creates the rollout (version 1) and claims every route of the release in one commit. A route
   * that already has an active rollout: RouteLockedError naming it, nothing written, when the
   * request says `whenRouteBusy: "reject"` (always, for several routes); else the
   * rollout is created Queued in the route's queue in the same commit (docs/state.md#busy-routes).
   * Throws SpecConflictError (same id, different request).
   */
  create(rollout: Rollout, entry: HistoryEntry, options?: WriteOptions): Promise<CreateOutcome>;
  get(id: string): Promise<Rollout | null>;
  /**
   * Stores `next` and appends `entry` only if the stored version is still `next.version - 1`;
   * releases the lock of every route of the release in the same commit when `next` is the first
   * terminal version — handing each to the first rollout waiting for that route, made Pending in
   * that commit — and a
   * queued rollout's place in the queue when it ends before its turn.
   * Throws VersionConflictError or DuplicateMessageError.
   */
  commit(next: Rollout, entry: HistoryEntry, options?: WriteOptions): Promise<CommitOutcome>;
  /** The route's active rollout and its queue, in order. */
  routeQueue(route: string): Promise<RouteQueue>;
  /** History in version order. */
  history(id: string): Promise<HistoryEntry[]>;
  /**
   * Active rollouts whose next action is due at or before `now`, soonest first, as stored, one
   * page of at most `limit` at a time (`after`: the previous page's `next`).
   */
  due(now: number, limit: number, after?: PageCursor | null): Promise<Page<Rollout>>;
  /**
   * Every rollout matching `query`, finished ones too, newest first (by createdAt, then id
   * descending), as stored, a page of at most `limit` at a time (`after`: the previous page's `next`).
   */
  list(query: RolloutQuery, limit: number, after?: PageCursor | null): Promise<Page<Rollout>>;
  /** Rollouts waiting for a person (ActionRequired), as stored, a page at a time (in id order). */
  waiting(limit: number, after?: PageCursor | null): Promise<Page<Rollout>>;
  /**
   * Active rollouts matching every given field on one of their locked routes (the route, and that
   * route's stable and canary), one record per rollout.
   */
  findActive(
    match: Partial<Pick<ActiveRollout, 'rolloutId' | 'routeName' | 'canaryName' | 'canaryService'>>,
  ): Promise<ActiveRollout[]>;
  hasProcessed(key: string): Promise<boolean>;
  /**
   * Claims the start of the rollout's workflow execution for `token`: true for the first claim,
   * and for one made when the previous claim is older than `staleAfterMs` (its holder failed or
   * died before attaching an execution); false while another holder's claim is fresh.
   */
  claimDriverStart(rolloutId: string, token: string, now: number, staleAfterMs: number): Promise<boolean>;
  /** Gives the claim up (the start failed), if `token` still holds it, so the next delivery may start. */
  releaseDriverStart(rolloutId: string, token: string): Promise<void>;
  /**
   * The outbox: lifecycle events not yet known to be published, created at or before
   * `createdBefore`, oldest first (by createdAt, then eventId), a page of at most `limit` at a time.
   * `create` and `commit` write one per history entry they write — the rollout's, and those of
   * rollouts handed the route lock, displaced superseders and queued creations — in the same
   * atomic commit as that entry (docs/events.md#delivery).
   */
  pendingEvents(createdBefore: number, limit: number, after?: PageCursor | null): Promise<Page<OutboxEvent>>;
  /** Removes these events from the outbox (they were published); unknown ids are ignored. */
  eventsPublished(eventIds: readonly string[]): Promise<void>;
  /** Records a route operation the controller started (pending until settled); a second record is a no-op. */
  recordOperation(operation: RouteOperation): Promise<void>;
  /** Records what became of a route operation. */
  settleOperation(name: string, state: Exclude<OperationState, 'pending'>, at: number): Promise<void>;
  /** The rollout's route operations not known to have finished, oldest first. */
  pendingOperations(rolloutId: string): Promise<RouteOperation[]>;
  /** Pending route operations of any rollout started at or before `startedBefore` (nobody reported back), oldest first, a page at a time. */
  strayOperations(
    startedBefore: number,
    limit: number,
    after?: PageCursor | null,
  ): Promise<Page<RouteOperation>>;
}

export class VersionConflictError extends ConflictError {
  constructor(id: string, attempted: number) {
    super(`rollout ${id} changed since version ${attempted - 1} was read`, {
      code: 'VERSION_CONFLICT',
      hint: 'reload the rollout and decide again; another driver already moved it',
    });
  }
}

export class DuplicateMessageError extends ConflictError {
  readonly key: string;
  constructor(key: string) {
    super(`message ${key} was already processed`, {
      code: 'DUPLICATE_MESSAGE',
      hint: 'nothing to do: this is a redelivery',
    });
    this.key = key;
  }
}

export class SpecConflictError extends RefusedError {
  readonly stored: Rollout;
  constructor(id: string, stored: Rollout) {
    super(`rollout ${id} already exists with a different request`, {
      code: 'SPEC_CONFLICT',
      hint: 'use a new rolloutId for a different rollout, or retry the existing one',
    });
    this.stored = stored;
  }
}

export class RouteLockedError extends RefusedError {
  readonly holder: string;
  constructor(route: string, holder: string) {
    super(`route ${route} already has an active rollout (${holder})`, {
      code: 'ROUTE_LOCKED',
      hint: `wait for ${holder} to finish, or abort it, before starting another rollout on this route`,
    });
    this.holder = holder;
  }
}
