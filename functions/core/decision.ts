/**
 * What the core decides for one input: the rollout changed (stored with one history entry and
 * published as one lifecycle event) or it did not (with the reason), and at most one follow-up
 * for the executor to carry out and feed back as the next input.
 */
import type { AnalysisWindow } from './analysis/verdict.ts';
import type { RouteTarget } from './route-view.ts';
import type { HistoryEntry, Rollout, RouteIntent } from './state.ts';
import type { Weights } from './weights.ts';

export type FollowUp =
  /**
   * Set the intent's weights on the route, only while the managed rule still shows `precondition`
   * (null: whatever it shows — rollback wins); report `routeObserved` or `routeFailed`.
   */
  | {
      readonly kind: 'applyRoute';
      readonly target: RouteTarget;
      readonly intent: RouteIntent;
      readonly precondition: Weights | null;
    }
  /** Put the rollout's confirmed weights back over a late write that still shows `precondition`. */
  | {
      readonly kind: 'restoreRoute';
      readonly target: RouteTarget;
      readonly intent: RouteIntent;
      readonly precondition: Weights;
    }
  /** Read the route and report it for the intent (after taking over an intent whose lease ran out). */
  | { readonly kind: 'readRoute'; readonly target: RouteTarget; readonly intent: RouteIntent }
  /** Read both backends' metrics for the window, judge them, report `verdict`. */
  | { readonly kind: 'measure'; readonly window: AnalysisWindow }
  | { readonly kind: 'none' };

export const NO_FOLLOW_UP: FollowUp = { kind: 'none' };

export type Decision =
  | {
      readonly kind: 'changed';
      readonly rollout: Rollout;
      readonly entry: HistoryEntry;
      readonly followUp: FollowUp;
    }
  | { readonly kind: 'unchanged'; readonly reason: string; readonly followUp: FollowUp };
