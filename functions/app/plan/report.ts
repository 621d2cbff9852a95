/**
 * What `rolloutctl plan` reports for a request: every section, each problem named. Times are
 * RFC 3339 strings so the JSON document reads as it prints.
 */

import type { MetricSource } from '../../core/request.ts';
import type { StepWrite } from '../../core/routing/step-diff.ts';
import type { PlannedDestination } from '../../core/routing/write-plan.ts';
import type { FieldIssue } from '../../core/validation.ts';
import type { Weights } from '../../core/weights.ts';

export type PlanSection =
  | 'schema'
  | 'allowlist'
  | 'request'
  | 'routes'
  | 'metrics'
  | 'alerts'
  | 'iam'
  | 'store';

export interface PlanProblem {
  readonly section: PlanSection;
  readonly code: string;
  readonly message: string;
  readonly hint: string;
  /** The request's fields the problem is about, when it names them. */
  readonly fields?: readonly FieldIssue[];
}

/** A check plan could not make: never reported as passed. */
export interface NotChecked {
  readonly checked: false;
  readonly why: string;
}

export interface AllowlistEntry {
  readonly route: string;
  readonly allowed: boolean;
}

export type RouteFinding =
  | {
      readonly route: string;
      readonly read: true;
      readonly updateTime: string;
      /** The managed rule found with this target's stable and canary; null when not found. */
      readonly rule: { readonly index: number; readonly weights: Weights } | null;
      readonly stable: string;
      readonly canary: string;
      /** The managed rule's destinations as the route has them now. */
      readonly destinations: readonly PlannedDestination[];
    }
  | { readonly route: string; readonly read: false; readonly reason: string };

export interface RouteWrites {
  readonly route: string;
  readonly steps: readonly StepWrite[];
}

export interface BackendTraffic {
  readonly role: 'stable' | 'canary';
  readonly source: MetricSource;
  readonly hasData: boolean;
  readonly requests: number;
  readonly requestsPerMinute: number;
  /** Why there is no data (Monitoring's words), when there is none. */
  readonly reason?: string;
}

export interface MetricsSection {
  readonly checked: true;
  readonly window: { readonly start: string; readonly end: string };
  readonly backends: readonly BackendTraffic[];
  /** What the judge needs: minRequests canary requests per window at the first weight step. */
  readonly needs: {
    readonly minRequests: number;
    readonly windowMinutes: number;
    readonly firstCanaryPercent: number;
    /** Requests per minute both backends together must serve for that. */
    readonly requestsPerMinute: number;
  };
  readonly enough: boolean;
}

export interface AlertPolicyMatch {
  readonly name: string;
  readonly displayName: string;
  readonly enabled: boolean;
  readonly labels: Readonly<Record<string, string>>;
  /** Which label maps it to this rollout (the label the controller's alert handler reads first). */
  readonly by: 'rollout_id' | 'rollout_route' | 'rollout_canary';
}

export interface AlertsSection {
  readonly checked: true;
  readonly policies: readonly AlertPolicyMatch[];
  /** Policies of the project in all (those with other or no rollout labels are not listed). */
  readonly scanned: number;
}

export interface TimelineEntry {
  readonly step: number;
  readonly kind: 'weight' | 'gate' | 'promote';
  readonly weights?: Weights;
  /** weight: when it starts; gate: when it is reached; promote: when it is written. */
  readonly at: string;
  readonly windows?: number;
  readonly promotableAt?: string;
  readonly judgedBy?: string;
}

export interface TimelineSection {
  readonly startAt: string;
  readonly steps: readonly TimelineEntry[];
  readonly completesAt: string;
  /** Manual gates: the times after one assume a person approves the moment it is reached. */
  readonly gates: number;
}

export interface PermissionCheck {
  readonly route: string;
  readonly principal: 'caller';
  readonly permissions: readonly { readonly permission: string; readonly granted: boolean }[];
}

export interface IamSection {
  readonly checked: true;
  readonly routes: readonly PermissionCheck[];
  /** What these checks cannot say. */
  readonly notChecked: readonly string[];
}

export interface StoreSection {
  readonly checked: true;
  /** The rollout already stored under the request's rolloutId. */
  readonly existing: { readonly id: string; readonly phase: string } | null;
  readonly whenRouteBusy: string;
  /** Who holds each route now, and how many rollouts wait for it. */
  readonly queues: readonly {
    readonly route: string;
    readonly holder: string | null;
    readonly waiting: number;
  }[];
}

export interface PlanReport {
  readonly ok: boolean;
  readonly problems: readonly PlanProblem[];
  readonly rolloutId: string | null;
  readonly schema: { readonly valid: boolean; readonly issues: readonly FieldIssue[] };
  readonly allowlist: readonly AllowlistEntry[];
  readonly routes: readonly RouteFinding[] | NotChecked;
  readonly writes: readonly RouteWrites[] | NotChecked;
  readonly metrics: MetricsSection | NotChecked;
  readonly alerts: AlertsSection | NotChecked;
  readonly timeline: TimelineSection | NotChecked;
  readonly iam: IamSection | NotChecked;
  readonly store: StoreSection | NotChecked;
}
