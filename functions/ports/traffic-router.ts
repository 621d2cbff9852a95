/**
 * Port: a route that carries the rollout's traffic (production adapter: Network Services v1
 * HTTPRoute, GRPCRoute, TCPRoute or TLSRoute, by the route name's collection). The adapter reads
 * and writes; what a route means for a rollout is the core's.
 */
import type { RouteErrorKind } from '../core/inputs.ts';
import type { ConcurrentWrite, RouteSnapshot } from '../core/routing/snapshot.ts';
import type { WriteRequest } from '../core/routing/write-plan.ts';
import type { OperationState } from '../core/state.ts';
import { ControllerError } from '../errors.ts';

export interface RouteWrite {
  /** False when nothing was written: the precondition failed, or there was nothing to change. */
  readonly written: boolean;
  /** The route as read back after the operation (or as read, when nothing was written). */
  readonly route: RouteSnapshot;
  /** The route as read for the write: the rules sent back were built from it. */
  readonly before: RouteSnapshot;
  /**
   * Other writes to the route that ended between that read and this write taking effect; null
   * when they could not be listed (the API's operations are the only record of them).
   */
  readonly concurrent: readonly ConcurrentWrite[] | null;
}

/** Told about the operation a write starts, so no write of the controller's can land unseen. */
export interface OperationObserver {
  /** The API accepted the write as this operation; awaited before the controller waits on it. */
  started(operation: string): Promise<void>;
  /** The operation finished: `done` — the write landed; `failed` or `cancelled` — it did not. */
  finished(operation: string, state: Exclude<OperationState, 'pending'>): Promise<void>;
}

export interface TrafficRouter {
  /** Reads the route (full name, e.g. projects/P/locations/L/httpRoutes/R or …/grpcRoutes/R). */
  read(route: string): Promise<RouteSnapshot>;
  /**
   * Reads the route, plans the write on that very read (core `planWrite`: the precondition is
   * checked there, as close to the write as the API allows), sends every other part of the route
   * back exactly as read, waits for the long-running operation and reads the route back. Throws
   * RouteError (an operation that outlives the wait may still land: the observer has been told it
   * started, not that it finished).
   */
  apply(route: string, request: WriteRequest, observer?: OperationObserver): Promise<RouteWrite>;
  /**
   * Asks the API to cancel the operation if it is still running (best effort, as Google
   * documents), then waits for it, bounded by the operation timeout: what became of it
   * (`pending` if it is still running then).
   */
  settle(operation: string): Promise<OperationState>;
  /**
   * Takes the canary (by its last name segment) out of every rule that also routes elsewhere,
   * without the rollout's state — for when Firestore cannot be reached (core `planEviction`).
   * Waits for the operation. Returns the rules that route only to the canary (left as they are).
   */
  takeOut(
    route: string,
    canary: string,
  ): Promise<{ readonly written: boolean; readonly left: readonly number[] }>;
}

/** A failed route read or change; `kind` is what the lifecycle reacts to. */
export class RouteError extends ControllerError {
  readonly kind: RouteErrorKind;

  constructor(kind: RouteErrorKind, message: string, hint: string, cause?: unknown) {
    super(message, kind === 'transient' || kind === 'conflict', {
      code: `ROUTE_${kind.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`,
      hint,
      cause,
    });
    this.kind = kind;
  }
}
