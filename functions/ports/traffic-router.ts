/**
 * Port: the HTTPRoute that carries the rollout's traffic (production adapter: Network Services v1).
 */
import type { RouteErrorKind } from '../core/inputs.ts';
import type { Weights } from '../core/weights.ts';
import { ControllerError } from '../errors.ts';

export interface RouteTarget {
  /** Full name: projects/P/locations/L/httpRoutes/NAME. */
  readonly route: string;
  /** Rule to shift; null means "the one rule whose destinations include the stable backend". */
  readonly ruleIndex: number | null;
  /** Full backend service names. */
  readonly stable: string;
  readonly canary: string;
}

export interface RouteView {
  /** The route's `updateTime` when read. */
  readonly updateTime: string;
  /** The rule the rollout shifts. */
  readonly ruleIndex: number;
  /** Stable/canary split of that rule in whole percent (0-weight destinations are absent on the route). */
  readonly weights: Weights;
  /** Destinations in that rule other than stable and canary (a rollout refuses to run on such a rule). */
  readonly otherDestinations: readonly string[];
}

export interface TrafficRouter {
  /** Reads the route and the split of the target rule. */
  read(target: RouteTarget): Promise<RouteView>;
  /**
   * Sets the split on the target rule, sending back every other part of the route exactly as
   * read, waits for the long-running operation, then reads back and verifies the weights. With
   * `expected`, the route must still carry the `updateTime` of the view the caller decided on
   * (HTTPRoute has no etag); otherwise nothing is written and a `conflict` RouteError is thrown.
   * Throws RouteError.
   */
  apply(
    target: RouteTarget & { readonly ruleIndex: number },
    weights: Weights,
    expected?: { readonly updateTime: string },
  ): Promise<RouteView>;
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
