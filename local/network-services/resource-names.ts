/** Resource names of the local Network Services API and the URL paths that carry them. */
import { invalidArgument } from './api-error.ts';
import { isRouteKind, KINDS, type RouteKind } from './route-kinds.ts';

export interface Parent {
  readonly project: string;
  readonly location: string;
}

export function parentName(p: Parent): string {
  return `projects/${p.project}/locations/${p.location}`;
}

export function routeName(p: Parent, id: string, collection: RouteKind = 'httpRoutes'): string {
  return `${parentName(p)}/${collection}/${id}`;
}

export function operationName(p: Parent, id: string): string {
  return `${parentName(p)}/operations/${id}`;
}

export interface RouteName extends Parent {
  readonly collection: RouteKind;
  readonly id: string;
}

/** The parts of a full route name of any of the four kinds, or null if the name is not one. */
export function parseRouteName(name: string): RouteName | null {
  const m = /^projects\/([^/]+)\/locations\/([^/]+)\/([A-Za-z]+)\/([^/]+)$/.exec(name);
  const collection = m?.[3] ?? '';
  if (m === null || !isRouteKind(collection)) return null;
  return { project: m[1] ?? '', location: m[2] ?? '', collection, id: m[4] ?? '' };
}

/** Route ids follow RFC 1035 labels: lower case letters, digits and hyphens, starting with a letter. */
const ROUTE_ID = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function checkRouteId(id: string | null, collection: RouteKind = 'httpRoutes'): string {
  const parameter = KINDS[collection].idParameter;
  if (id === null || id === '') {
    throw invalidArgument(`${parameter} is required: pass ?${parameter}=<id> with the create request.`);
  }
  if (!ROUTE_ID.test(id)) {
    throw invalidArgument(
      `Invalid ${parameter} '${id}': it must be 1-63 characters, start with a lower case letter, and contain only lower case letters, digits and hyphens (not ending with a hyphen).`,
    );
  }
  return id;
}

/** `https://networkservices.googleapis.com/v1/<name>`, as the real API reports in selfLink. */
export function selfLink(name: string): string {
  return `https://networkservices.googleapis.com/v1/${name}`;
}
