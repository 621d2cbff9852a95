/**
 * What the core decides for one input: the rollout changed (stored with one history entry and
 * published as one lifecycle event) or it did not (with the reason), and at most one follow-up
 * for the executor to carry out and feed back as the next input.
 */
import type { AnalysisWindow } from './analysis/verdict.ts';
import type { GatePoint, NotifyPoint } from './hook-state.ts';
import type { PlanHook } from './hooks.ts';
import type { WriteRequest } from './routing/write-plan.ts';
import type { HistoryEntry, Rollout, RouteIntent, RouteOperation } from './state.ts';
import type { Weights } from './weights.ts';

export type FollowUp =
  /**
   * Write the route as `request` says — on the very read the write is built from, so its
   * precondition holds right up to the write — and report `routeObserved` or `routeFailed`.
   */
  | {
      readonly kind: 'applyRoute';
      readonly route: string;
      /** The target (index into the request's targets) `route` is; reported back on the input. */
      readonly target: number;
      readonly intent: RouteIntent;
      readonly request: WriteRequest;
      /**
       * A rollback of several routes: the writes of the release's later targets, started at the
       * same time as this one so the canary leaves every route in about one operation's time.
       * Only this target's outcome is reported; each later target is read (and written again if
       * need be) in its own turn, so the core still confirms the targets in order.
       */
      readonly alongside?: readonly {
        readonly route: string;
        readonly target: number;
        readonly request: WriteRequest;
      }[];
    }
  /** Put the rollout's confirmed weights back over a late write (`request.precondition`: that write). */
  | {
      readonly kind: 'restoreRoute';
      readonly route: string;
      readonly target: number;
      readonly intent: RouteIntent;
      readonly request: WriteRequest;
    }
  /**
   * Read these later targets of a release before the intent's first write and report
   * `routesChecked` (transition/route-check.ts).
   */
  | {
      readonly kind: 'checkRoutes';
      readonly intent: RouteIntent;
      readonly targets: readonly { readonly route: string; readonly target: number }[];
    }
  /** Read the route and report it for the intent (taking over an intent, or checking on a person). */
  | {
      readonly kind: 'readRoute';
      readonly route: string;
      readonly target: number;
      readonly intent: RouteIntent;
    }
  /**
   * Ask the API to cancel each operation and wait (bounded) until it has finished either way,
   * then read the route: report `operationsSettled`.
   */
  | {
      readonly kind: 'settleOperations';
      /** The route read after settling (every operation settled is on it). */
      readonly route: string;
      readonly target: number;
      readonly intent: RouteIntent | null;
      readonly operations: readonly RouteOperation[];
    }
  /**
   * Read the route to see whether a person changed the managed rule (the metrics showed another
   * split than the rollout's): report `routeInspected`.
   */
  | { readonly kind: 'inspectRoute'; readonly route: string; readonly target: number }
  /** Read both backends' metrics for the window, judge them, report `verdict`. */
  | { readonly kind: 'measure'; readonly window: AnalysisWindow }
  /**
   * Call these hooks (at once, outside any transaction) and report `hooksCalled`. `step`: the
   * plan step the calls are about; `nextWeights`: the weights they would allow (preStep,
   * confirmPromotion), else null.
   */
  | {
      readonly kind: 'callHooks';
      readonly point: GatePoint | 'check';
      readonly step: number;
      readonly hooks: readonly PlanHook[];
      readonly nextWeights: Weights | null;
    }
  | { readonly kind: 'none' };

export const NO_FOLLOW_UP: FollowUp = { kind: 'none' };

/**
 * Notification hooks a change calls (onRollback when a rollback starts, postRollout when a
 * terminal phase is reached): started alongside the follow-up, never before it and never
 * awaited before it; each result comes back as `hooksCalled` and changes nothing.
 */
export interface Notify {
  readonly point: NotifyPoint;
  readonly hooks: readonly PlanHook[];
}

export type Decision =
  | {
      readonly kind: 'changed';
      readonly rollout: Rollout;
      readonly entry: HistoryEntry;
      readonly followUp: FollowUp;
      readonly notify?: Notify;
    }
  | {
      readonly kind: 'unchanged';
      readonly reason: string;
      readonly followUp: FollowUp;
      /** When something may be due again although nothing was stored (a window not yet visible). */
      readonly retryAt?: number;
    };
