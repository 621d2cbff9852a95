/**
 * Port: the project's Cloud Monitoring alert policies, as far as rolloutctl plan needs them — which
 * carry the user labels the controller maps incidents by (production adapter: AlertPolicyService).
 */
export interface AlertPolicySummary {
  /** projects/P/alertPolicies/ID */
  readonly name: string;
  readonly displayName: string;
  readonly enabled: boolean;
  readonly userLabels: Readonly<Record<string, string>>;
}

export interface AlertPolicies {
  /** Every alert policy of the project (all pages). Throws ControllerError. */
  list(): Promise<AlertPolicySummary[]>;
}
