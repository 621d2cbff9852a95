/**
 * Test hooks on the local Network Services API's requests: make the next requests of a kind
 * fail with an HTTP error, or run code just before a request of a kind is served.
 */
import { ApiError, statusForHttp } from './api-error.ts';
import type { RouteKind } from './route-kinds.ts';

export type RequestKind =
  | 'get'
  | 'list'
  | 'create'
  | 'patch'
  | 'delete'
  | 'getOperation'
  | 'cancelOperation'
  | 'listOperations';

/** The IAM permission each request needs (named in 403 messages as the real API does). */
const PERMISSIONS: Record<RequestKind, string> = {
  get: 'networkservices.<collection>.get',
  list: 'networkservices.<collection>.list',
  create: 'networkservices.<collection>.create',
  patch: 'networkservices.<collection>.update',
  delete: 'networkservices.<collection>.delete',
  getOperation: 'networkservices.operations.get',
  cancelOperation: 'networkservices.operations.cancel',
  listOperations: 'networkservices.operations.list',
};

/** The permission a request of this kind needs on a route of `collection` (null: operations). */
export function permissionFor(kind: RequestKind, collection: RouteKind | null): string {
  return PERMISSIONS[kind].replace('<collection>', collection ?? 'httpRoutes');
}

export type RequestHook = (resource: string, count: number) => void | Promise<void>;

function defaultMessage(
  httpStatus: number,
  kind: RequestKind,
  resource: string,
  collection: RouteKind | null,
): string {
  switch (httpStatus) {
    case 403: {
      const permission = permissionFor(kind, collection);
      return `Permission '${permission}' denied on resource '${resource}' (or it may not exist).`;
    }
    case 429:
      return `Quota exceeded for quota metric 'Read requests' of service 'networkservices.googleapis.com'.`;
    case 503:
      return 'The service is currently unavailable.';
    default:
      return `Injected HTTP ${httpStatus}.`;
  }
}

export class FaultPlan {
  readonly #failures = new Map<RequestKind, { status: number; message: string | null }[]>();
  readonly #hooks = new Map<RequestKind, Set<RequestHook>>();
  readonly #counts = new Map<RequestKind, number>();

  /** The next `times` requests of this kind answer `httpStatus` (e.g. 503, 403) with the API's error body. */
  failNext(kind: RequestKind, httpStatus: number, times = 1, message: string | null = null): void {
    statusForHttp(httpStatus);
    const queue = this.#failures.get(kind) ?? [];
    for (let i = 0; i < times; i += 1) queue.push({ status: httpStatus, message });
    this.#failures.set(kind, queue);
  }

  /** Runs `hook` before each request of this kind is served; returns a function that removes it. */
  beforeRequest(kind: RequestKind, hook: RequestHook): () => void {
    const hooks = this.#hooks.get(kind) ?? new Set();
    hooks.add(hook);
    this.#hooks.set(kind, hooks);
    return () => {
      hooks.delete(hook);
    };
  }

  /** How many requests of this kind arrived (failed ones included). */
  count(kind: RequestKind): number {
    return this.#counts.get(kind) ?? 0;
  }

  /**
   * Counts the request, runs the hooks, then throws the injected failure if one is due.
   * `collection`: the route kind the request is about (null for operations).
   */
  async admit(kind: RequestKind, resource: string, collection: RouteKind | null = null): Promise<void> {
    const count = this.count(kind) + 1;
    this.#counts.set(kind, count);
    for (const hook of [...(this.#hooks.get(kind) ?? [])]) await hook(resource, count);
    const failure = this.#failures.get(kind)?.shift();
    if (failure !== undefined) {
      throw new ApiError(
        statusForHttp(failure.status),
        failure.message ?? defaultMessage(failure.status, kind, resource, collection),
      );
    }
  }
}
