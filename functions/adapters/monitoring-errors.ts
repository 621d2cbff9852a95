/**
 * Failures of Cloud Monitoring calls as typed errors: the shared classifier decides the kind
 * (google-errors.ts), this module adds what to do about it for metrics.
 */
import { type ControllerError, InvalidInputError, RefusedError, TransientError } from '../errors.ts';
import { classifyGoogleError } from './google-errors.ts';

export const METRICS_HINTS = {
  invalidArgument:
    'Cloud Monitoring rejected the query: fix the metric source of the rollout request (filters must name exactly one metric.type; windows must be at least 60 s)',
  notFound: 'check the project of the metric source and that the metric exists in it',
  permissionDenied:
    "grant the controller's service account monitoring.timeSeries.list on the metrics project (roles/monitoring.viewer or the canaryMetricsReader role, see docs/deploy.md)",
  unauthenticated:
    "the controller's credentials were rejected or are missing; check the function's service account (or Application Default Credentials when run elsewhere)",
  transient: 'Cloud Monitoring is unavailable or throttling; retried with backoff',
} as const;

/** A typed error for a failed call; `action` says what was being read ("reading requests of …"). */
export function metricsErrorFrom(error: unknown, action: string): ControllerError {
  const failure = classifyGoogleError(error);
  const message = `${action} failed: ${failure.detail}`;
  const details = (code: string, hint: string) => ({ code, hint, cause: error });
  switch (failure.kind) {
    case 'transient':
    case 'conflict':
      return new TransientError(message, details('METRICS_UNAVAILABLE', METRICS_HINTS.transient));
    case 'invalidArgument':
      return new InvalidInputError(
        message,
        [],
        details('METRICS_QUERY_INVALID', METRICS_HINTS.invalidArgument),
      );
    case 'notFound':
      return new RefusedError(message, details('METRICS_NOT_FOUND', METRICS_HINTS.notFound));
    case 'permissionDenied':
      return new RefusedError(message, details('METRICS_PERMISSION_DENIED', METRICS_HINTS.permissionDenied));
    case 'unauthenticated':
      return new RefusedError(message, details('METRICS_UNAUTHENTICATED', METRICS_HINTS.unauthenticated));
  }
}
