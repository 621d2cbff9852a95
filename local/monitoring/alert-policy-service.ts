/**
 * google.monitoring.v3.AlertPolicyService on the local Monitoring server: ListAlertPolicies and
 * GetAlertPolicy over the real wire protocol, serving the policies the local alerting evaluates
 * (local/alerting/policy.ts). Read-only: policies are set by the local cloud, not through the API.
 *
 * Deviations, on purpose: a policy's conditions carry only their name and display name (the
 * stand-in keeps them in its evaluation form); `filter` and `orderBy` are refused
 * (INVALID_ARGUMENT naming them); page tokens are offsets.
 */
import {
  type ServerUnaryCall,
  type sendUnaryData,
  status,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { AlertPolicy } from '../alerting/policy.ts';
import { MonitoringApiError, unsupported } from './api-error.ts';

/** The policies each project has, as the local cloud set them. */
export class AlertPolicyRegistry {
  readonly #byProject = new Map<string, readonly AlertPolicy[]>();

  set(project: string, policies: readonly AlertPolicy[]): void {
    this.#byProject.set(project, [...policies]);
  }

  of(project: string): readonly AlertPolicy[] {
    return this.#byProject.get(project) ?? [];
  }
}

interface ListRequest {
  readonly name?: string;
  readonly filter?: string;
  readonly orderBy?: string;
  readonly pageSize?: number;
  readonly pageToken?: string;
}

const DEFAULT_PAGE = 100;

function wire(p: AlertPolicy) {
  return {
    name: p.name,
    displayName: p.displayName,
    userLabels: { ...p.userLabels },
    enabled: { value: p.enabled },
    ...(p.severity === null ? {} : { severity: p.severity }),
    ...(p.documentation === null ? {} : { documentation: p.documentation }),
    conditions: p.conditions.map((c) => ({ name: c.name, displayName: c.displayName })),
    notificationChannels: [...p.notificationChannels],
  };
}

function projectOf(name: string | undefined): string {
  const m = /^projects\/([^/]+)$/.exec(name ?? '');
  if (m?.[1] === undefined) {
    throw new MonitoringApiError(
      status.INVALID_ARGUMENT,
      `Field name had an invalid value of "${name ?? ''}": must be projects/PROJECT`,
    );
  }
  return m[1];
}

export function listAlertPolicies(registry: AlertPolicyRegistry, request: ListRequest) {
  const project = projectOf(request.name);
  if (request.filter) throw unsupported('filter', 'no filter');
  if (request.orderBy) throw unsupported('orderBy', 'no orderBy');
  const all = registry.of(project);
  const offset = request.pageToken ? Number(request.pageToken) : 0;
  if (!Number.isInteger(offset) || offset < 0 || offset > all.length) {
    throw new MonitoringApiError(status.INVALID_ARGUMENT, 'Invalid page token.');
  }
  const size = request.pageSize && request.pageSize > 0 ? Math.min(request.pageSize, 1000) : DEFAULT_PAGE;
  const page = all.slice(offset, offset + size);
  const next = offset + page.length < all.length ? String(offset + page.length) : '';
  return { alertPolicies: page.map(wire), nextPageToken: next, totalSize: all.length };
}

function getAlertPolicy(registry: AlertPolicyRegistry, request: { readonly name?: string }) {
  const name = request.name ?? '';
  const project = name.split('/')[1] ?? '';
  const found = registry.of(project).find((p) => p.name === name);
  if (found === undefined)
    throw new MonitoringApiError(status.NOT_FOUND, `Could not find alert policy ${name}.`);
  return wire(found);
}

function answer<T>(callback: sendUnaryData<T>, run: () => T): void {
  try {
    callback(null, run());
  } catch (error) {
    const known = error instanceof MonitoringApiError;
    callback({
      code: known ? error.code : status.INTERNAL,
      details: known ? error.message : `local Monitoring server failed: ${(error as Error).message}`,
    });
  }
}

export function alertPolicyServiceHandlers(registry: AlertPolicyRegistry): UntypedServiceImplementation {
  return {
    ListAlertPolicies: (call: ServerUnaryCall<ListRequest, unknown>, callback: sendUnaryData<unknown>) =>
      answer(callback, () => listAlertPolicies(registry, call.request)),
    GetAlertPolicy: (call: ServerUnaryCall<{ name?: string }, unknown>, callback: sendUnaryData<unknown>) =>
      answer(callback, () => getAlertPolicy(registry, call.request)),
  };
}
