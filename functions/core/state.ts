/**
 * The rollout document: everything the controller knows about one rollout. Times are epoch
 * milliseconds; absent values are `null` so the document stores as-is.
 */

import type { AnalysisWindow, EvidenceValue, JudgeState, Verdict } from './analysis/verdict.ts';
import type { Caller } from './caller.ts';
import type { HookState } from './hook-state.ts';
import type { HookPoint, HookResult, HookStatus } from './hooks.ts';
import type { Plan } from './plan.ts';
import type { RolloutRequest } from './request.ts';
import type { RouteSnapshot } from './routing/snapshot.ts';
import type { RuleHint } from './targets.ts';
import type { Weights } from './weights.ts';

export type PauseReason =
  | { readonly kind: 'operator'; readonly actor: string; readonly note: string }
  | { readonly kind: 'gate'; readonly note: string | null }
  | { readonly kind: 'inconclusive'; readonly windows: number }
  /** The step ran for its maximum duration without enough canary traffic to be judged (never a pass). */
  | {
      readonly kind: 'notEnoughTraffic';
      readonly canaryRequests: number;
      readonly needed: number;
      readonly forMs: number;
    }
  /** The metrics kept showing a split other than the route's: the weights did not reach the data plane. */
  | { readonly kind: 'splitNotLive'; readonly windows: number; readonly detail: string }
  | { readonly kind: 'drift'; readonly detail: string }
  /** A preStep, confirmPromotion or check hook did not pass in time (docs/hooks.md); resume calls it again. */
  | {
      readonly kind: 'hook';
      readonly point: HookPoint;
      readonly hook: string;
      readonly status: HookStatus;
      readonly detail: string;
    };

/** What `resume` does: keep holding the current weights, apply the current step again, or move on. */
export type ResumeMode = 'continue' | 'applyStep' | 'nextStep';

/** Why the controller cannot change the route safely and waits for a person. */
export type RouteProblem =
  /** No rule routes to the stable or the canary backend any more. */
  | { readonly kind: 'ruleGone' }
  /** Several rules route to stable or canary and none can be told to be the managed one. */
  | { readonly kind: 'ruleAmbiguous'; readonly rules: readonly number[] }
  /** The managed rule also routes to backends a person added; a shift would have to remove them. */
  | { readonly kind: 'foreignDestinations'; readonly rule: number; readonly backends: readonly string[] }
  /** The managed rule is rolled back, but other rules still send the canary traffic. */
  | { readonly kind: 'canaryElsewhere'; readonly rules: readonly number[] }
  /** The API refuses the write for a reason a person must fix (permission, validation). */
  | { readonly kind: 'refused'; readonly message: string };

export type RollbackCause =
  | { readonly kind: 'verdict'; readonly summary: string }
  | { readonly kind: 'alert'; readonly incidentId: string; readonly policy: string; readonly summary: string }
  | { readonly kind: 'abort'; readonly actor: string; readonly note: string }
  | { readonly kind: 'routeError'; readonly message: string }
  /** A hook whose onFailure is rollback did not pass in time, or a check hook reached its failure limit. */
  | {
      readonly kind: 'hook';
      readonly point: HookPoint;
      readonly hook: string;
      readonly status: HookStatus;
      readonly summary: string;
    }
  /** A progress deadline passed with action `rollback` (`deadline`: the rollout's; `gateTimeout`: a pause's). */
  | { readonly kind: 'deadline'; readonly which: DeadlineKind; readonly summary: string }
  /** A rollout request for the same route with `whenRouteBusy: "supersede"` ended this one. */
  | { readonly kind: 'superseded'; readonly by: string };

/**
 * A gradual abort (transition/step-down.ts): the canary steps down through the plan's weight steps
 * below its weight, each written, confirmed live and held like a forward step, then is taken out
 * (RollingBack with an `abort` cause, then Aborted). Analysis goes on; an alert or a failed verdict
 * rolls back at once.
 */
export interface AbortingStatus {
  readonly phase: 'Aborting';
  /** The plan step whose (lower) weights are being applied or held on the way down. */
  readonly step: number;
  /** Who asked for the abort, and why. */
  readonly actor: string;
  readonly note: string;
  /** How long each lower weight is held once live, already divided by the plan's time scale. */
  readonly holdMs: number;
  /** An operator's pause: the step-down stays at its weights until resumed; null while stepping down. */
  readonly held: { readonly actor: string; readonly note: string } | null;
}

/** The two progress deadlines of a request (transition/deadlines.ts). */
export type DeadlineKind = 'deadline' | 'gateTimeout';

/** The phases a rollout can go back to once a person has acted on the route. */
export type ResumableStatus =
  | { readonly phase: 'Progressing'; readonly step: number }
  | {
      readonly phase: 'Paused';
      readonly step: number;
      readonly reason: PauseReason;
      readonly resume: ResumeMode;
      /** When the pause began (gateTimeout counts from it); absent on pauses stored before it existed. */
      readonly since?: number;
    }
  | { readonly phase: 'Promoting' }
  | { readonly phase: 'RollingBack'; readonly cause: RollbackCause }
  | AbortingStatus;

export type Status =
  /** Accepted while its route was busy: waits its turn (`seq`: its place in the route's queue, see queue.ts). */
  | { readonly phase: 'Queued'; readonly seq: number }
  | { readonly phase: 'Pending' }
  | ResumableStatus
  | { readonly phase: 'Succeeded' }
  | {
      /** A person must act on the route: the controller cannot change it safely (see RouteProblem). */
      readonly phase: 'ActionRequired';
      readonly problem: RouteProblem;
      /** The route's updateTime when the problem was seen; null when only an operator can clear it. */
      readonly routeSeen: string | null;
      /** The target route the problem is on (absent: the first target, as stored before releases had several). */
      readonly route?: string;
      /** Where the rollout goes back to when the route changes or an operator acts. */
      readonly resume: ResumableStatus;
    }
  | { readonly phase: 'RolledBack'; readonly cause: RollbackCause }
  | { readonly phase: 'Aborted'; readonly actor: string; readonly note: string }
  | { readonly phase: 'Failed'; readonly error: string };

export type Phase = Status['phase'];

export const TERMINAL_PHASES: readonly Phase[] = ['Succeeded', 'RolledBack', 'Aborted', 'Failed'];
/** Phases a driver may have work to do in (the due-rollouts query lists these). */
export const ACTIVE_PHASES: readonly Phase[] = [
  'Pending',
  'Progressing',
  'Paused',
  'Promoting',
  'RollingBack',
  'ActionRequired',
  'Aborting',
];

export function isTerminal(phase: Phase): boolean {
  return TERMINAL_PHASES.includes(phase);
}

/**
 * `restore`: put the confirmed weights back over a late write of the controller's own.
 * `stepDown`: a lower weight step on the way down of a gradual abort.
 */
export type IntentPurpose = 'step' | 'promote' | 'rollback' | 'restore' | 'stepDown';

/** What became of a route operation the controller started. */
export type OperationState = 'pending' | 'done' | 'failed' | 'cancelled';

/**
 * A route operation the controller started, recorded as soon as the API accepted the write, so
 * that no write of its own can land unseen: nothing is confirmed while an operation of an earlier
 * change may still land.
 */
export interface RouteOperation {
  /** The API's operation name. */
  readonly name: string;
  readonly rolloutId: string;
  readonly route: string;
  /** The intent (change) it writes, and the split it writes. */
  readonly intentId: number;
  readonly weights: Weights;
  readonly startedAt: number;
}

/** A route change recorded before it is made ("write intent, act, confirm"). */
export interface RouteIntent {
  /** Version of the rollout that recorded this intent; observations name it. */
  readonly id: number;
  readonly purpose: IntentPurpose;
  readonly weights: Weights;
  /** Weights believed live when the intent was recorded. */
  readonly previous: Weights;
  /** Until then, the driver that recorded (or took over) the intent owns it. */
  readonly leaseUntil: number;
  readonly attempts: number;
  readonly lastError: string | null;
  /**
   * Apply even if the route shows something other than `previous`. True for rollbacks (rollback
   * wins) and for an operator's resume after a hand edit; otherwise a hand edit is never overwritten.
   */
  readonly overwrite: boolean;
  /**
   * Targets (indices into the request's targets) already confirmed showing this intent's weights.
   * Targets are written in order: the next one to write or read is the first not listed; the
   * change is live once all are (absent: none yet).
   */
  readonly done?: readonly number[];
}

export interface VerdictRecord {
  readonly verdict: Verdict;
  readonly summary: string;
  readonly window: AnalysisWindow;
  readonly at: number;
  readonly evidence: { readonly [key: string]: EvidenceValue };
}

export interface AnalysisState {
  /** Windows of the current step already judged. */
  readonly windowsJudged: number;
  /**
   * Windows of the current step left unjudged because the metrics still showed a split other
   * than the step's (the new weights had not reached every client); they come before the first
   * judged window.
   */
  readonly windowsSettling: number;
  /** Whether the step's split was seen in the metrics (or a person accepted it): no more settling windows. */
  readonly splitSeen: boolean;
  readonly stepCanaryRequests: number;
  readonly inconclusiveStreak: number;
  /** Times the current step paused for lack of traffic (each resume gives it another maximum duration). */
  readonly trafficPauses?: number;
  /** The judge's accumulators, kept for the whole rollout. */
  readonly judge: JudgeState | null;
  readonly last: VerdictRecord | null;
}

export type Driver =
  | { readonly kind: 'workflow'; readonly execution: string | null }
  | { readonly kind: 'scheduler' };

export interface AlertRecord {
  readonly incidentId: string;
  readonly policy: string;
  readonly state: 'open' | 'closed';
  readonly at: number;
}

export interface Rollout {
  readonly id: string;
  readonly spec: RolloutRequest;
  readonly plan: Plan;
  /** Where the managed rule was last seen (a hint: the rule is found by what it routes on every read). */
  readonly ruleIndex: number;
  /** The managed rule's shape when last seen, to tell it from a look-alike rule (null: not yet known). */
  readonly ruleShape: string | null;
  /**
   * Per target (index into the request's targets), where its managed rule was last seen; absent
   * on rollouts stored before releases had several targets (then `ruleIndex`/`ruleShape` are the
   * first target's).
   */
  readonly ruleHints?: readonly RuleHint[];
  readonly status: Status;
  /** Weights confirmed live on the route. */
  readonly weights: Weights;
  readonly intent: RouteIntent | null;
  readonly analysis: AnalysisState;
  readonly driver: Driver;
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** When the current step's weights were confirmed live. */
  readonly stepStartedAt: number | null;
  /** When a driver next has something to do; null when only an operator or alert can move it. */
  readonly nextActionAt: number | null;
  readonly attempt: number;
  readonly retryOf: string | null;
  readonly lastAlert: AlertRecord | null;
  /** Where the rollout's hook calls stand (absent: none made yet, or a rollout without hooks). */
  readonly hookState?: HookState;
  /** What the progress deadlines already reported (transition/deadlines.ts); absent until one did. */
  readonly deadlines?: DeadlineRecord;
  /** The rollout this one supersedes (it was accepted with `whenRouteBusy: "supersede"`). */
  readonly supersedes?: string | null;
  /** The rollout that superseded this one. */
  readonly supersededBy?: string | null;
  /** Its arrival number in its route's queue when it was queued (kept after it starts). */
  readonly queuedAs?: number | null;
}

/** Progress deadlines already reported, so each is acted on once (and `stalled` once per interval). */
export interface DeadlineRecord {
  /** When the rollout's deadline passed and was reported (action notify; the others leave the phase). */
  readonly deadlinePassedAt: number | null;
  /** The pause (its `since`) whose gate timeout was reported with action notify: once per pause. */
  readonly gateTimedOutFor: number | null;
  /** Overdue work: since when it was due and when it was last reported (rollout.stalled). */
  readonly stalled: { readonly since: number; readonly reportedAt: number } | null;
}

export interface Snapshot {
  readonly phase: Phase;
  readonly step: number | null;
  readonly weights: Weights;
}

export type EventType =
  | 'rollout.created'
  | 'rollout.driver_attached'
  | 'rollout.weights_applying'
  | 'rollout.weights_retrying'
  | 'rollout.weights_live'
  | 'rollout.weights_restoring'
  | 'rollout.weights_restored'
  | 'rollout.route_edited'
  | 'rollout.edit_overwritten'
  | 'rollout.command_overtaken'
  | 'rollout.analysis'
  | 'rollout.paused'
  | 'rollout.resumed'
  | 'rollout.promoting'
  | 'rollout.succeeded'
  | 'rollout.rolling_back'
  | 'rollout.action_required'
  | 'rollout.rolled_back'
  | 'rollout.aborted'
  | 'rollout.failed'
  | 'rollout.alert_closed'
  | 'rollout.aborting'
  | 'rollout.stepping_down'
  | 'rollout.hook_passed'
  | 'rollout.hook_failed'
  | 'rollout.hook_inconclusive'
  | 'rollout.hook_notified'
  | 'rollout.deadline_passed'
  | 'rollout.gate_timed_out'
  | 'rollout.stalled'
  | 'rollout.queued'
  | 'rollout.dequeued'
  | 'rollout.superseded';

/** One entry per change, in version order: what happened, who caused it, before and after. */
export interface HistoryEntry {
  readonly version: number;
  readonly at: number;
  readonly event: EventType;
  readonly actor: string;
  readonly input: string;
  readonly reason: string;
  readonly from: Snapshot;
  readonly to: Snapshot;
  readonly intent: { readonly purpose: IntentPurpose; readonly weights: Weights } | null;
  readonly verdict: {
    readonly verdict: Verdict;
    readonly summary: string;
    readonly window: AnalysisWindow;
    readonly evidence: { readonly [key: string]: EvidenceValue };
  } | null;
  /**
   * When a write of the controller's overwrote someone else's change to the route: the route as
   * read before the write, and as the other writer left it — so it can be restored. Else null.
   */
  readonly route?: {
    readonly before: RouteSnapshot;
    readonly overwritten: RouteSnapshot;
    /** Which target route (absent: the first). */
    readonly target?: string;
  } | null;
  /** The results of the hook calls this change records (docs/hooks.md). */
  readonly hooks?: readonly HookResult[];
  /**
   * Who asked for this change and how the controller knows (verified ID token, or a name claimed
   * in a Pub/Sub message protected by the topic's IAM); absent for the controller's own changes.
   */
  readonly caller?: Caller;
  /** On the first entry: the request's `requestedBy`, as claimed by the publisher. */
  readonly requestedBy?: string;
}

export function stepOf(status: Status): number | null {
  return status.phase === 'Progressing' || status.phase === 'Paused' || status.phase === 'Aborting'
    ? status.step
    : null;
}

export function snapshot(r: Rollout): Snapshot {
  return { phase: r.status.phase, step: stepOf(r.status), weights: r.weights };
}
