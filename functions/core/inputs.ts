/**
 * Everything that can happen to a rollout, and everything the core can ask a driver to do.
 */

import type { AnalysisWindow, Judgement } from './analysis/verdict.ts';
import type { HistoryEntry, RouteIntent } from './state.ts';
import type { Weights } from './weights.ts';

export type ControlCommand = 'pause' | 'resume' | 'promote' | 'abort' | 'retry';

/** What a driver saw on the route after (or instead of) applying an intent. */
export type RouteObservation =
  | { readonly kind: 'matchesIntent'; readonly updateTime: string }
  | { readonly kind: 'matchesPrevious'; readonly updateTime: string }
  | {
      readonly kind: 'drifted';
      readonly weights: Weights | null;
      readonly detail: string;
      readonly updateTime: string;
    };

export type RouteErrorKind = 'transient' | 'conflict' | 'notFound' | 'permissionDenied' | 'invalidArgument';

export interface IncidentInput {
  readonly incidentId: string;
  readonly state: 'open' | 'closed';
  readonly policy: string;
  readonly condition: string;
  readonly summary: string;
}

interface Base {
  /** Who or what caused this input: `workflow:<execution>`, `scheduler`, `alert:<policy>`, `operator:<who>`. */
  readonly actor: string;
}

export type Input =
  | (Base & { readonly type: 'start' })
  | (Base & { readonly type: 'due' })
  | (Base & {
      readonly type: 'routeObserved';
      readonly intentId: number;
      readonly observation: RouteObservation;
    })
  | (Base & {
      readonly type: 'routeFailed';
      readonly intentId: number;
      readonly error: { readonly kind: RouteErrorKind; readonly message: string };
    })
  | (Base & { readonly type: 'verdict'; readonly window: AnalysisWindow; readonly judgement: Judgement })
  | (Base & { readonly type: 'alert'; readonly incident: IncidentInput })
  | (Base & { readonly type: 'control'; readonly command: ControlCommand; readonly note: string })
  | (Base & { readonly type: 'driverAttached'; readonly execution: string });

export type InputType = Input['type'];

export type Effect =
  /** Patch the route to the intent's weights, wait for the operation, read back, report `routeObserved`. */
  | { readonly type: 'applyRoute'; readonly intent: RouteIntent }
  /** Read the route and report how it compares with the intent (after taking over a stale intent). */
  | { readonly type: 'readRoute'; readonly intent: RouteIntent }
  /** Read both backends' metrics for the window, judge them, report `verdict`. */
  | { readonly type: 'measure'; readonly window: AnalysisWindow }
  /** Publish the lifecycle event for this change. */
  | { readonly type: 'notify'; readonly entry: HistoryEntry }
  /** Nothing more to do before this time. */
  | { readonly type: 'waitUntil'; readonly at: number }
  /** The rollout reached a terminal phase. */
  | { readonly type: 'finish' };
