/** Resource names of the local Network Services API and the URL paths that carry them. */
import { invalidArgument } from './api-error.ts';

export interface Parent {
  readonly project: string;
  readonly location: string;
}

export function parentName(p: Parent): string {
  return `projects/${p.project}/locations/${p.location}`;
}

export function routeName(p: Parent, id: string): string {
  return `${parentName(p)}/httpRoutes/${id}`;
}

export function operationName(p: Parent, id: string): string {
  return `${parentName(p)}/operations/${id}`;
}

/** The parent of a full route name, or null if the name is not one. */
export function parseRouteName(name: string): (Parent & { readonly id: string }) | null {
  const m = /^projects\/([^/]+)\/locations\/([^/]+)\/httpRoutes\/([^/]+)$/.exec(name);
  if (m === null) return null;
  return { project: m[1] ?? '', location: m[2] ?? '', id: m[3] ?? '' };
}

/** Route ids follow RFC 1035 labels: lower case letters, digits and hyphens, starting with a letter. */
const ROUTE_ID = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function checkRouteId(id: string | null): string {
  if (id === null || id === '') {
    throw invalidArgument('httpRouteId is required: pass ?httpRouteId=<id> with the create request.');
  }
  if (!ROUTE_ID.test(id)) {
    throw invalidArgument(
      `Invalid httpRouteId '${id}': it must be 1-63 characters, start with a lower case letter, and contain only lower case letters, digits and hyphens (not ending with a hyphen).`,
    );
  }
  return id;
}

/** `https://networkservices.googleapis.com/v1/<name>`, as the real API reports in selfLink. */
export function selfLink(name: string): string {
  return `https://networkservices.googleapis.com/v1/${name}`;
}
