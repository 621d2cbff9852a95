/**
 * Failures of Network Services API calls as RouteErrors: the HTTP status of a failed request, or
 * the google.rpc.Status of a failed operation, decides the kind; the API's message is kept.
 */
import { RouteError } from '../ports/traffic-router.ts';

const HINTS = {
  notFound:
    'check the route name in the rollout request (projects/P/locations/L/httpRoutes/R) and that the route exists',
  permissionDenied:
    "grant the controller's service account networkservices.httpRoutes.get/.list/.update and networkservices.operations.get on the route's project (custom role canaryRouteEditor, see docs/deploy.md)",
  unauthenticated:
    "the controller's credentials were rejected or are missing; check the function's service account (or Application Default Credentials when run elsewhere)",
  invalidArgument:
    'the API rejected the request; fix what the message names (route or rollout request) and retry',
  conflict: 'another writer changed the route at the same time; the controller reads it again and decides',
  transient: 'the API is unavailable or throttling; retried with backoff',
} as const;

/** gRPC codes (google.rpc.Code) that a person has to fix, and the kind each stands for. */
const BY_GRPC_CODE: Record<number, RouteError['kind']> = {
  3: 'invalidArgument',
  5: 'notFound',
  6: 'conflict',
  7: 'permissionDenied',
  9: 'invalidArgument',
  10: 'conflict',
  11: 'invalidArgument',
  12: 'invalidArgument',
  16: 'permissionDenied',
};

interface HttpFailure {
  readonly status?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly response?: { readonly status?: unknown; readonly data?: unknown };
}

function apiError(data: unknown): { message: string | null; status: string | null } {
  if (typeof data !== 'object' || data === null || !('error' in data)) return { message: null, status: null };
  const error = data.error;
  if (typeof error !== 'object' || error === null) return { message: null, status: null };
  return {
    message: 'message' in error && typeof error.message === 'string' ? error.message : null,
    status: 'status' in error && typeof error.status === 'string' ? error.status : null,
  };
}

function kindForHttp(status: number, canonical: string | null): RouteError['kind'] {
  if (status === 404) return 'notFound';
  if (status === 401 || status === 403) return 'permissionDenied';
  if (status === 409 || canonical === 'ABORTED' || canonical === 'ALREADY_EXISTS') return 'conflict';
  if (status === 408 || status === 429 || status >= 500) return 'transient';
  return 'invalidArgument';
}

/** Whether a failure without an HTTP response is about credentials rather than the network. */
function credentialProblem(message: string): boolean {
  return /default credentials|could not refresh access token|invalid_grant|unauthorized_client/i.test(
    message,
  );
}

/** A RouteError for a failed API call; `action` says what was being done ("reading route R"). */
export function routeErrorFrom(error: unknown, action: string): RouteError {
  if (error instanceof RouteError) return error;
  const failure = (typeof error === 'object' && error !== null ? error : {}) as HttpFailure;
  const rawStatus = failure.status ?? failure.response?.status;
  const text = typeof failure.message === 'string' ? failure.message : String(error);
  if (typeof rawStatus !== 'number') {
    if (credentialProblem(text)) {
      return new RouteError('permissionDenied', `${action} failed: ${text}`, HINTS.unauthenticated, error);
    }
    const code = typeof failure.code === 'string' ? ` (${failure.code})` : '';
    return new RouteError(
      'transient',
      `${action} failed: no answer from the API${code}: ${text}`,
      HINTS.transient,
      error,
    );
  }
  const api = apiError(failure.response?.data);
  const kind = kindForHttp(rawStatus, api.status);
  const message = `${action} failed: HTTP ${rawStatus}${api.status ? ` ${api.status}` : ''}: ${api.message ?? text}`;
  const hint = rawStatus === 401 ? HINTS.unauthenticated : HINTS[kind];
  return new RouteError(kind, message, hint, error);
}

/** A RouteError for an operation that finished with `error` (a google.rpc.Status). */
export function operationError(
  status: { readonly code?: number | null; readonly message?: string | null },
  operation: string,
  action: string,
): RouteError {
  const code = status.code ?? 2;
  const kind = BY_GRPC_CODE[code] ?? 'transient';
  return new RouteError(
    kind,
    `${action}: operation ${operation} failed with code ${code}: ${status.message ?? '(no message)'}`,
    code === 16 ? HINTS.unauthenticated : HINTS[kind],
    status,
  );
}
