/**
 * Port: the HTTPRoute that carries the rollout's traffic (production adapter: Network Services v1).
 */
import type { RouteErrorKind } from '../core/inputs.ts';
import type { RouteTarget, RouteView } from '../core/route-view.ts';
import type { Weights } from '../core/weights.ts';
import { ControllerError } from '../errors.ts';

export type { RouteTarget, RouteView } from '../core/route-view.ts';

export interface RouteWrite {
  /** False when nothing was written: the rule already had the weights, or the precondition failed. */
  readonly written: boolean;
  /** The route as read back after the operation (or as read, when nothing was written). */
  readonly route: RouteView;
}

export interface TrafficRouter {
  /** Reads the route and the split of the target rule. */
  read(target: RouteTarget): Promise<RouteView>;
  /**
   * Sets the split on the target rule, sending back every other part of the route exactly as
   * read, waits for the long-running operation, then reads back and verifies the weights. With a
   * `precondition`, writes only if the rule still shows that split on the very read the write is
   * built from (HTTPRoute has no etag; this is as close to the write as the API allows) and
   * otherwise returns what it read, unwritten. Throws RouteError.
   */
  apply(target: RouteTarget, weights: Weights, precondition: Weights | null): Promise<RouteWrite>;
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
