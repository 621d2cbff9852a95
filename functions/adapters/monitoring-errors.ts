/**
 * Failures of Cloud Monitoring calls as typed errors: the gRPC status decides whether trying
 * again can help; the API's message is kept and a hint says what to do.
 */
import { type ControllerError, InvalidInputError, RefusedError, TransientError } from '../errors.ts';

/** google.rpc.Code values. */
const CODE = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  ABORTED: 10,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

const TRANSIENT = new Set<number>([
  CODE.CANCELLED,
  CODE.UNKNOWN,
  CODE.DEADLINE_EXCEEDED,
  CODE.RESOURCE_EXHAUSTED,
  CODE.ABORTED,
  CODE.INTERNAL,
  CODE.UNAVAILABLE,
]);

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

/** The client's retry errors repeat every attempt; keep messages readable. */
const MAX_MESSAGE = 600;

function credentialProblem(message: string): boolean {
  return /default credentials|could not refresh access token|invalid_grant|unauthorized_client/i.test(
    message,
  );
}

/** A typed error for a failed call; `action` says what was being read ("reading requests of …"). */
export function metricsErrorFrom(error: unknown, action: string): ControllerError {
  const raw = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    details?: unknown;
    message?: unknown;
  };
  const full =
    typeof raw.details === 'string' && raw.details !== ''
      ? raw.details
      : typeof raw.message === 'string'
        ? raw.message
        : String(error);
  const text = full.length > MAX_MESSAGE ? `${full.slice(0, MAX_MESSAGE)}…` : full;
  const code = typeof raw.code === 'number' ? raw.code : null;
  const details = (c: string, hint: string) => ({ code: c, hint, cause: error });
  if (code === null) {
    if (credentialProblem(text)) {
      return new RefusedError(
        `${action} failed: ${text}`,
        details('METRICS_UNAUTHENTICATED', METRICS_HINTS.unauthenticated),
      );
    }
    return new TransientError(
      `${action} failed: ${text}`,
      details('METRICS_UNAVAILABLE', METRICS_HINTS.transient),
    );
  }
  if (TRANSIENT.has(code)) {
    return new TransientError(
      `${action} failed (gRPC ${code}): ${text}`,
      details('METRICS_UNAVAILABLE', METRICS_HINTS.transient),
    );
  }
  const message = `${action} failed (gRPC ${code}): ${text}`;
  switch (code) {
    case CODE.INVALID_ARGUMENT:
      return new InvalidInputError(
        message,
        [],
        details('METRICS_QUERY_INVALID', METRICS_HINTS.invalidArgument),
      );
    case CODE.NOT_FOUND:
      return new RefusedError(message, details('METRICS_NOT_FOUND', METRICS_HINTS.notFound));
    case CODE.PERMISSION_DENIED:
      return new RefusedError(message, details('METRICS_PERMISSION_DENIED', METRICS_HINTS.permissionDenied));
    case CODE.UNAUTHENTICATED:
      return new RefusedError(message, details('METRICS_UNAUTHENTICATED', METRICS_HINTS.unauthenticated));
    default:
      return new RefusedError(message, details('METRICS_REFUSED', METRICS_HINTS.invalidArgument));
  }
}
