/**
 * Port: the route that carries the rollout's traffic (production adapter: Network Services v1
 * HTTPRoute). The adapter reads and writes; what a route means for a rollout is the core's.
 */
import type { RouteErrorKind } from '../core/inputs.ts';
import type { RouteSnapshot } from '../core/routing/snapshot.ts';
import type { WriteRequest } from '../core/routing/write-plan.ts';
import { ControllerError } from '../errors.ts';

export interface RouteWrite {
  /** False when nothing was written: the precondition failed, or there was nothing to change. */
  readonly written: boolean;
  /** The route as read back after the operation (or as read, when nothing was written). */
  readonly route: RouteSnapshot;
}

export interface TrafficRouter {
  /** Reads the route (full name, e.g. projects/P/locations/L/httpRoutes/R). */
  read(route: string): Promise<RouteSnapshot>;
  /**
   * Reads the route, plans the write on that very read (core `planWrite`: the precondition is
   * checked there, as close to the write as the API allows), sends every other part of the route
   * back exactly as read, waits for the long-running operation and reads the route back.
   * Throws RouteError.
   */
  apply(route: string, request: WriteRequest): Promise<RouteWrite>;
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
