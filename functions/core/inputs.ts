/**
 * Everything that can happen to a rollout. Each input names who caused it (`actor`), so every
 * history entry says who or what moved the rollout.
 */

import type { AnalysisWindow, Judgement } from './analysis/verdict.ts';
import type { RouteSnapshot } from './routing/snapshot.ts';
import type { RouteIntent } from './state.ts';

export type ControlCommand = 'pause' | 'resume' | 'promote' | 'abort' | 'retry';

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
      /** The route change the read or write was made for. */
      readonly intent: RouteIntent;
      /** True when this call wrote the route (the snapshot is the read-back after its operation). */
      readonly written: boolean;
      readonly route: RouteSnapshot;
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
