/**
 * Failures of Network Services API calls as RouteErrors: the shared classifier decides the kind
 * (google-errors.ts), this module adds what to do about it for routes of each kind.
 */
import type { RouteKind } from '../core/targets.ts';
import { RouteError } from '../ports/traffic-router.ts';
import { classifyGoogleError, type FailureKind, kindOfCode } from './google-errors.ts';

function hint(kind: FailureKind, collection: RouteKind | null): string {
  const routes = collection ?? 'httpRoutes|grpcRoutes|tcpRoutes|tlsRoutes';
  switch (kind) {
    case 'notFound':
      return `check the route name in the rollout request (projects/P/locations/L/${routes}/R) and that the route exists`;
    case 'permissionDenied':
      return `grant the controller's service account networkservices.${collection ?? '<kind>Routes'}.get/.list/.update and networkservices.operations.get/.cancel/.list on the route's project (custom role canaryRouteEditor, see docs/deploy.md)`;
    case 'unauthenticated':
      return "the controller's credentials were rejected or are missing; check the function's service account (or Application Default Credentials when run elsewhere)";
    case 'invalidArgument':
      return 'the API rejected the request; fix what the message names (route or rollout request) and retry';
    case 'conflict':
      return 'another writer changed the route at the same time; the controller reads it again and decides';
    case 'transient':
      return 'the API is unavailable or throttling; retried with backoff';
  }
}

function routeError(
  kind: FailureKind,
  message: string,
  collection: RouteKind | null,
  cause: unknown,
): RouteError {
  // Missing credentials need the same person as a missing permission; the hint says which.
  return new RouteError(
    kind === 'unauthenticated' ? 'permissionDenied' : kind,
    message,
    hint(kind, collection),
    cause,
  );
}

/**
 * A RouteError for a failed API call; `action` says what was being done ("reading route R"),
 * `collection` which route kind it was about (null: an operation of no known kind).
 */
export function routeErrorFrom(
  error: unknown,
  action: string,
  collection: RouteKind | null = null,
): RouteError {
  if (error instanceof RouteError) return error;
  const failure = classifyGoogleError(error);
  return routeError(failure.kind, `${action} failed: ${failure.detail}`, collection, error);
}

/** A RouteError for an operation that finished with `error` (a google.rpc.Status). */
export function operationError(
  status: { readonly code?: number | null; readonly message?: string | null },
  operation: string,
  action: string,
  collection: RouteKind | null = null,
): RouteError {
  const code = status.code ?? 2;
  return routeError(
    kindOfCode(code),
    `${action}: operation ${operation} failed with code ${code}: ${status.message ?? '(no message)'}`,
    collection,
    status,
  );
}

/** The route name names no route kind the controller knows (caught by request validation first). */
export function unknownRouteKind(route: string): RouteError {
  return new RouteError(
    'invalidArgument',
    `'${route}' is not a full route name of a kind the controller manages`,
    'name the route projects/P/locations/L/{httpRoutes|grpcRoutes|tcpRoutes|tlsRoutes}/NAME',
  );
}
