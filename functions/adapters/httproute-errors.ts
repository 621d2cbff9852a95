/**
 * Failures of Network Services API calls as RouteErrors: the shared classifier decides the kind
 * (google-errors.ts), this module adds what to do about it for routes.
 */
import { RouteError } from '../ports/traffic-router.ts';
import { classifyGoogleError, type FailureKind, kindOfCode } from './google-errors.ts';

const HINTS = {
  notFound:
    'check the route name in the rollout request (projects/P/locations/L/httpRoutes/R) and that the route exists',
  permissionDenied:
    "grant the controller's service account networkservices.httpRoutes.get/.list/.update and networkservices.operations.get/.cancel/.list on the route's project (custom role canaryRouteEditor, see docs/deploy.md)",
  unauthenticated:
    "the controller's credentials were rejected or are missing; check the function's service account (or Application Default Credentials when run elsewhere)",
  invalidArgument:
    'the API rejected the request; fix what the message names (route or rollout request) and retry',
  conflict: 'another writer changed the route at the same time; the controller reads it again and decides',
  transient: 'the API is unavailable or throttling; retried with backoff',
} as const;

function routeError(kind: FailureKind, message: string, cause: unknown): RouteError {
  // Missing credentials need the same person as a missing permission; the hint says which.
  return new RouteError(kind === 'unauthenticated' ? 'permissionDenied' : kind, message, HINTS[kind], cause);
}

/** A RouteError for a failed API call; `action` says what was being done ("reading route R"). */
export function routeErrorFrom(error: unknown, action: string): RouteError {
  if (error instanceof RouteError) return error;
  const failure = classifyGoogleError(error);
  return routeError(failure.kind, `${action} failed: ${failure.detail}`, error);
}

/** A RouteError for an operation that finished with `error` (a google.rpc.Status). */
export function operationError(
  status: { readonly code?: number | null; readonly message?: string | null },
  operation: string,
  action: string,
): RouteError {
  const code = status.code ?? 2;
  return routeError(
    kindOfCode(code),
    `${action}: operation ${operation} failed with code ${code}: ${status.message ?? '(no message)'}`,
    status,
  );
}
