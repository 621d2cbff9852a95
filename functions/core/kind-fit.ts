/**
 * Whether a release's metric sources can judge the kinds of route it moves, decided when the
 * request is accepted (before any route is read).
 *
 * - GRPCRoute: Cloud Run request metrics and internal load balancer metrics record the HTTP status
 *   of a gRPC call (200 for almost every call), not its grpc-status: a canary failing every call
 *   with UNAVAILABLE would look healthy. Refused unless the request accepts that
 *   (`analysis.blindToGrpcErrors: true`); a `filter` source on gRPC status metrics sees the errors.
 * - TCPRoute, TLSRoute: Cloud Run cannot serve raw TCP (nor TLS passthrough), so its request
 *   metrics never see such a route's traffic: only `filter` (or `internalLb`) sources can judge it.
 */
import type { ChosenSources } from './metric-fit.ts';
import type { MetricSource } from './request.ts';
import { kindName, type Target } from './targets.ts';
import type { FieldIssue } from './validation.ts';

const ROLES = ['stable', 'canary'] as const;

/** The request field that names a target's route: `route` for a one-route request, else `targets[i].route`. */
export function targetField(index: number, listed: boolean, field: 'route' | 'rule' = 'route'): string {
  return listed ? `targets[${index}].${field}` : field;
}

/** One issue per backend whose source cannot judge some target's route kind; none when all can. */
export function routeKindIssues(
  targets: readonly Target[],
  listed: boolean,
  sources: ChosenSources,
  blindToGrpcErrors: boolean,
): FieldIssue[] {
  const named = (kinds: readonly Target['kind'][]) =>
    targets.flatMap((t, i) =>
      kinds.includes(t.kind) ? [`${kindName(t.kind)} ${targetField(i, listed)}`] : [],
    );
  const grpc = blindToGrpcErrors ? [] : named(['grpcRoutes']);
  const raw = named(['tcpRoutes', 'tlsRoutes']);
  return ROLES.flatMap((role): FieldIssue[] => {
    const chosen = sources[role];
    const what = describeSource(chosen.source, chosen.from);
    const field = `analysis.metrics.${role}`;
    if (raw.length > 0 && chosen.source.preset === 'cloudRun') {
      return [{ field, rule: rawRule(what, raw) }];
    }
    if (grpc.length > 0 && chosen.source.preset !== 'filter') {
      return [{ field, rule: grpcRule(what, grpc) }];
    }
    return [];
  });
}

function describeSource(source: MetricSource, from: 'request' | 'default'): string {
  return from === 'request'
    ? `must not use preset "${source.preset}"`
    : `is not set, and the controller's default for this backend is preset "${source.preset}", which cannot be used`;
}

function grpcRule(what: string, targets: readonly string[]): string {
  return (
    `${what} for ${targets.join(', ')}: its request metrics record the HTTP status of a gRPC call, not its grpc-status, ` +
    'so failed gRPC calls would count as successes; use {"preset": "filter", …} on metrics that carry the gRPC status ' +
    '(docs/route-kinds.md), or set analysis.blindToGrpcErrors to true to judge without them'
  );
}

function rawRule(what: string, targets: readonly string[]): string {
  return (
    `${what} for ${targets.join(', ')}: Cloud Run cannot serve raw TCP or TLS passthrough, so its request metrics ` +
    'never see this traffic; use {"preset": "filter", …} (or "internalLb" behind a Google-managed load balancer)'
  );
}
