/**
 * The methods of one route collection of the local Network Services v1 API (httpRoutes,
 * grpcRoutes, tcpRoutes or tlsRoutes: get, list, create, patch, delete) and of the location's
 * operations (get, cancel, list), shared by every kind: request checks up front, changes through
 * long-running operations.
 */
import { ApiError, invalidArgument } from './api-error.ts';
import type { OperationBook, OperationJson } from './operations.ts';
import { checkRouteId, type Parent, parentName, routeName } from './resource-names.ts';
import type { Route } from './route-feed.ts';
import { type KindSpec, typeUrl } from './route-kinds.ts';
import type { RouteStore } from './route-store.ts';
import { type JsonObject, routeBody, validateRoute } from './route-validation.ts';
import { applyMask, parseUpdateMask } from './update-mask.ts';

const EMPTY_TYPE = 'type.googleapis.com/google.protobuf.Empty';
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;

/** `{httpRoutes: […], nextPageToken}`, `{grpcRoutes: […], …}`: the list keyed by the collection. */
export type ListRoutesResponse = { readonly [collection: string]: readonly Route[] | string };

function typed(kind: KindSpec, route: Route): JsonObject {
  return { '@type': typeUrl(kind), ...route };
}

function pageSizeOf(raw: string | null): number {
  if (raw === null || raw === '') return DEFAULT_PAGE_SIZE;
  const size = Number(raw);
  if (!Number.isInteger(size) || size < 0) {
    throw invalidArgument(
      `Invalid value at 'page_size' (TYPE_INT32), "${raw}": it must be a non-negative integer.`,
    );
  }
  return size === 0 ? DEFAULT_PAGE_SIZE : Math.min(size, MAX_PAGE_SIZE);
}

function encodeToken(parent: string, after: string): string {
  return Buffer.from(JSON.stringify({ parent, after })).toString('base64url');
}

/** The name the previous page ended with; throws INVALID_ARGUMENT for a token of another list. */
function decodeToken(parent: string, token: string | null): string | null {
  if (token === null || token === '') return null;
  try {
    const decoded: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (
      typeof decoded === 'object' &&
      decoded !== null &&
      'parent' in decoded &&
      'after' in decoded &&
      decoded.parent === parent &&
      typeof decoded.after === 'string'
    ) {
      return decoded.after;
    }
  } catch {
    // falls through to the error below
  }
  throw invalidArgument(
    `Invalid page token '${token}': pass the nextPageToken of the previous list call unchanged.`,
  );
}

export class RouteService {
  readonly #store: RouteStore;
  readonly #operations: OperationBook;
  readonly #kind: KindSpec;

  constructor(store: RouteStore, operations: OperationBook, kind: KindSpec) {
    this.#store = store;
    this.#operations = operations;
    this.#kind = kind;
  }

  get(name: string): Route {
    return this.#store.read(name);
  }

  list(parent: Parent, pageSize: string | null, pageToken: string | null): ListRoutesResponse {
    const under = parentName(parent);
    const size = pageSizeOf(pageSize);
    const after = decodeToken(under, pageToken);
    const names = this.#store
      .namesUnder(under, this.#kind.collection)
      .filter((name) => after === null || name > after);
    const page = names.slice(0, size);
    const last = page.at(-1);
    return {
      ...(page.length > 0 ? { [this.#kind.collection]: page.map((name) => this.#store.read(name)) } : {}),
      ...(names.length > size && last !== undefined ? { nextPageToken: encodeToken(under, last) } : {}),
    };
  }

  create(parent: Parent, id: string | null, body: unknown): OperationJson {
    const kind = this.#kind;
    const name = routeName(parent, checkRouteId(id, kind.collection), kind.collection);
    const fields = applyMask({}, routeBody(body, kind), null);
    validateRoute(fields, kind);
    if (this.#store.has(name)) throw new ApiError('ALREADY_EXISTS', `Resource '${name}' already exists`);
    return this.#operations.start({
      parent,
      target: name,
      verb: 'create',
      commit: () => {
        if (this.#store.has(name)) throw new ApiError('ALREADY_EXISTS', `Resource '${name}' already exists`);
        return typed(kind, this.#store.write(name, fields));
      },
    });
  }

  patch(parent: Parent, name: string, updateMask: string | null, body: unknown): OperationJson {
    const kind = this.#kind;
    const mask = parseUpdateMask(updateMask, kind);
    const patch = routeBody(body, kind);
    validateRoute(applyMask(this.#store.raw(name), patch, mask), kind);
    return this.#operations.start({
      parent,
      target: name,
      verb: 'update',
      commit: () => {
        // Applied to the route as it is when the operation completes, like the real control plane.
        const next = applyMask(this.#store.raw(name), patch, mask);
        validateRoute(next, kind);
        return typed(kind, this.#store.write(name, next));
      },
    });
  }

  delete(parent: Parent, name: string): OperationJson {
    this.#store.read(name);
    return this.#operations.start({
      parent,
      target: name,
      verb: 'delete',
      commit: () => {
        this.#store.remove(name);
        return { '@type': EMPTY_TYPE };
      },
    });
  }

  getOperation(name: string): OperationJson {
    return this.#operations.get(name);
  }

  cancelOperation(name: string): JsonObject {
    return this.#operations.cancel(name);
  }

  listOperations(parent: Parent, pageSize: string | null, pageToken: string | null): JsonObject {
    const under = parentName(parent);
    const after = decodeToken(under, pageToken);
    const page = this.#operations.list(parent, pageSizeOf(pageSize), after);
    return {
      ...(page.operations.length > 0 ? { operations: page.operations } : {}),
      ...(page.next !== null ? { nextPageToken: encodeToken(under, page.next) } : {}),
    };
  }
}
