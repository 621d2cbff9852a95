/**
 * AlertPolicies on Cloud Monitoring v3 (official AlertPolicyServiceClient, gRPC), or on the local
 * Monitoring stand-in with `localEndpoint` (host:port, insecure).
 */
import { AlertPolicyServiceClient } from '@google-cloud/monitoring';
import { credentials } from '@grpc/grpc-js';
import type { AlertPolicies, AlertPolicySummary } from '../ports/alert-policies.ts';
import { readErrorFrom } from './google-read-errors.ts';

export interface MonitoringAlertPoliciesOptions {
  readonly projectId: string;
  /** host:port of the local Monitoring stand-in; unset in production. */
  readonly localEndpoint?: string;
}

interface PolicyRead {
  readonly name?: string | null;
  readonly displayName?: string | null;
  readonly enabled?: { readonly value?: boolean | null } | null;
  readonly userLabels?: { readonly [key: string]: string } | null;
}

/**
 * How long one listing may take, retries included: onAlert waits for it before rolling back by a
 * labelled policy, so an unreachable Monitoring must fail (and be retried by Pub/Sub) in bounded
 * time rather than hold the function for the client's default deadlines.
 */
const LIST_TIMEOUT_MS = 10_000;

export class MonitoringAlertPolicies implements AlertPolicies {
  readonly #client: AlertPolicyServiceClient;
  readonly #project: string;

  constructor(options: MonitoringAlertPoliciesOptions) {
    this.#project = options.projectId;
    this.#client = clientFor(options);
  }

  async list(): Promise<AlertPolicySummary[]> {
    try {
      const [policies] = await this.#client.listAlertPolicies(
        { name: `projects/${this.#project}` },
        { timeout: LIST_TIMEOUT_MS },
      );
      return (policies as readonly PolicyRead[]).map((p) => ({
        name: p.name ?? '',
        displayName: p.displayName ?? '',
        enabled: p.enabled?.value ?? false,
        userLabels: { ...(p.userLabels ?? {}) },
      }));
    } catch (error) {
      throw readErrorFrom(
        error,
        `listing the alert policies of project ${this.#project}`,
        'grant yourself monitoring.alertPolicies.list (roles/monitoring.viewer) on the project',
      );
    }
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}

function clientFor(options: MonitoringAlertPoliciesOptions): AlertPolicyServiceClient {
  const local = options.localEndpoint;
  if (local === undefined) return new AlertPolicyServiceClient({ projectId: options.projectId });
  const colon = local.lastIndexOf(':');
  return new AlertPolicyServiceClient({
    apiEndpoint: local.slice(0, colon),
    port: Number(local.slice(colon + 1)),
    sslCreds: credentials.createInsecure(),
    universeDomain: 'googleapis.com',
    projectId: options.projectId,
  });
}
