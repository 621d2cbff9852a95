/**
 * Everything that can happen to a rollout. Each input names who caused it (`actor`), so every
 * history entry says who or what moved the rollout.
 */

import type { SplitCheck } from './analysis/split.ts';
import type { AnalysisWindow, Judgement } from './analysis/verdict.ts';
import type { Caller } from './caller.ts';
import type { HookPoint, HookResult } from './hooks.ts';
import type { ConcurrentWrite, RouteSnapshot } from './routing/snapshot.ts';
import type { OperationState, RouteIntent, RouteOperation } from './state.ts';

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
  /** For a person's or a publisher's input: who asked and how that is known (recorded in history). */
  readonly caller?: Caller;
}

export type Input =
  | (Base & { readonly type: 'start' })
  | (Base & { readonly type: 'due' })
  | (Base & {
      readonly type: 'routeObserved';
      /** The target (index into the request's targets) the route is; absent: the first. */
      readonly target?: number;
      /** The route change the read or write was made for. */
      readonly intent: RouteIntent;
      /** True when this call wrote the route (the snapshot is the read-back after its operation). */
      readonly written: boolean;
      readonly route: RouteSnapshot;
      /** The rollout's route operations not known to have finished, as recorded when the route was read. */
      readonly pending: readonly RouteOperation[];
      /** For a write: the route as read for it (the rules sent back were built from it). */
      readonly before?: RouteSnapshot;
      /** For a write: others' writes that ended while it was in flight (null: they could not be listed). */
      readonly concurrent?: readonly ConcurrentWrite[] | null;
    })
  | (Base & {
      readonly type: 'operationsSettled';
      readonly target?: number;
      /** The change the operations were settled for (null: a check of a rollout with none in flight). */
      readonly intent: RouteIntent | null;
      /** Each operation waited for (after asking the API to cancel it) and what became of it. */
      readonly outcomes: readonly { readonly operation: RouteOperation; readonly state: OperationState }[];
      /** The route as read after the operations settled. */
      readonly route: RouteSnapshot;
      readonly pending: readonly RouteOperation[];
    })
  | (Base & {
      readonly type: 'operationsPending';
      /** Route operations of this rollout that never reported back (their driver died or gave up). */
      readonly operations: readonly RouteOperation[];
    })
  | (Base & {
      readonly type: 'routeFailed';
      readonly target?: number;
      readonly intentId: number;
      readonly error: { readonly kind: RouteErrorKind; readonly message: string };
    })
  /** The later targets of a release as read before the change's first write (a `checkRoutes` follow-up). */
  | (Base & {
      readonly type: 'routesChecked';
      readonly intent: RouteIntent;
      readonly routes: readonly { readonly target: number; readonly route: RouteSnapshot }[];
    })
  | (Base & { readonly type: 'verdict'; readonly window: AnalysisWindow; readonly judgement: Judgement })
  /** The route as read for an inspection (no route change in flight). */
  | (Base & { readonly type: 'routeInspected'; readonly route: RouteSnapshot; readonly target?: number })
  /** A window whose metrics still showed another split than the step's: measured, not judged. */
  | (Base & {
      readonly type: 'windowSettling';
      readonly window: AnalysisWindow;
      readonly split: Extract<SplitCheck, { kind: 'notSeen' }>;
    })
  /** A window read before its deadline whose points are not all visible yet: look again at `retryAt`. */
  | (Base & {
      readonly type: 'windowPending';
      readonly window: AnalysisWindow;
      readonly detail: string;
      readonly retryAt: number;
    })
  | (Base & { readonly type: 'alert'; readonly incident: IncidentInput })
  | (Base & {
      readonly type: 'control';
      readonly command: ControlCommand;
      readonly note: string;
      /** When the operator issued it (the message's publish time); null when it was answered at once. */
      readonly issuedAt?: number | null;
      /** For `abort`: step down through the plan's lower weights, holding each (as written, unscaled). */
      readonly gradual?: { readonly holdMs: number } | null;
    })
  | (Base & { readonly type: 'driverAttached'; readonly execution: string })
  /** What a `callHooks` follow-up or a notification came to (`step`: the plan step called about, null for notifications). */
  | (Base & {
      readonly type: 'hooksCalled';
      readonly point: HookPoint;
      readonly step: number | null;
      readonly results: readonly HookResult[];
    })
  /** A newer rollout request for the route supersedes this rollout; end it as `with` says. */
  | (Base & { readonly type: 'supersede'; readonly by: string; readonly with: 'rollback' | 'abort' });
