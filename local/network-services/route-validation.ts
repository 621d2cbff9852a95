/**
 * What the local Network Services API accepts as a route of each kind (HttpRoute, GrpcRoute,
 * TcpRoute, TlsRoute), with the real API's error shape (400 INVALID_ARGUMENT naming the field).
 * The JSON is kept as sent; the only normalisation is the one proto3 forces on a read: a weight
 * of 0 is indistinguishable from no weight. Rules per kind: rule-validation.ts.
 */
import { invalidArgument } from './api-error.ts';
import type { Route } from './route-feed.ts';
import { KINDS, type KindSpec } from './route-kinds.ts';
import { checkRules } from './rule-validation.ts';
import { checkKnown, invalid, isObject, type JsonObject, strings, typeError } from './validation-basics.ts';

export { isObject, type JsonObject };

const OUTPUT_AND_COMMON = ['createTime', 'description', 'labels', 'name', 'rules', 'selfLink', 'updateTime'];

/** Top-level fields of each kind, as the API's JSON parser knows them. */
function fieldsOf(kind: KindSpec): readonly string[] {
  return [...new Set([...OUTPUT_AND_COMMON, ...kind.maskable])];
}

/** What each attachment list must name: `projects/P/locations/L/meshes/M`, …/gateways/G, …/targetTcpProxies/T. */
const ATTACHMENTS: Record<string, { readonly pattern: RegExp; readonly example: string }> = {
  meshes: {
    pattern: /^projects\/[^/]+\/locations\/[^/]+\/meshes\/[^/]+$/,
    example: 'projects/P/locations/L/meshes/M',
  },
  gateways: {
    pattern: /^projects\/[^/]+\/locations\/[^/]+\/gateways\/[^/]+$/,
    example: 'projects/P/locations/L/gateways/G',
  },
  targetProxies: {
    pattern: /^projects\/[^/]+\/locations\/[^/]+\/targetTcpProxies\/[^/]+$/,
    example: 'projects/P/locations/L/targetTcpProxies/T',
  },
};

function checkAttachments(kind: KindSpec, route: JsonObject): void {
  for (const [field, { pattern, example }] of Object.entries(ATTACHMENTS)) {
    strings(kind, field, route[field]).forEach((name, i) => {
      // Not verified: Google's wording for a malformed reference is not documented.
      if (!pattern.test(name))
        invalid(kind, `${field}[${i}] '${name}' is not a valid reference; use ${example}.`);
    });
  }
}

/** HttpRoute and GrpcRoute need hostnames (TcpRoute and TlsRoute have none). */
function checkHostnames(kind: KindSpec, route: JsonObject): void {
  if (!kind.maskable.includes('hostnames')) return;
  const hostnames = strings(kind, 'hostnames', route['hostnames']);
  if (hostnames.length === 0) invalid(kind, 'hostnames is required and must contain at least one hostname.');
  hostnames.forEach((h, i) => {
    if (h === '') invalid(kind, `hostnames[${i}] is empty.`);
  });
}

function checkLabelsAndDescription(kind: KindSpec, route: JsonObject): void {
  const labels = route['labels'];
  if (labels !== undefined && labels !== null) {
    if (!isObject(labels)) typeError(kind, 'labels', 'TYPE_MESSAGE', labels);
    for (const [key, value] of Object.entries(labels)) {
      if (typeof value !== 'string') typeError(kind, `labels[${key}]`, 'TYPE_STRING', value);
    }
  }
  const description = route['description'];
  if (description !== undefined && description !== null) {
    if (typeof description !== 'string') typeError(kind, 'description', 'TYPE_STRING', description);
    if (description.length > 1024) invalid(kind, 'description is longer than 1024 characters.');
  }
}

/** Checks a complete route of `kind` (after an update mask is applied); throws ApiError INVALID_ARGUMENT. */
export function validateRoute(route: JsonObject, kind: KindSpec = KINDS.httpRoutes): void {
  checkKnown(kind, '', route, fieldsOf(kind));
  checkAttachments(kind, route);
  checkHostnames(kind, route);
  checkLabelsAndDescription(kind, route);
  checkRules(kind, route['rules']);
}

/** A request body that must be a JSON object (a route of `kind`). */
export function routeBody(body: unknown, kind: KindSpec = KINDS.httpRoutes): JsonObject {
  if (!isObject(body)) {
    throw invalidArgument(
      `Invalid JSON payload received. Expected a${kind.type.startsWith('Http') ? 'n' : ''} ${kind.type} object, got ${JSON.stringify(body)}.`,
    );
  }
  return body;
}

function withoutZeroWeight(destination: unknown): unknown {
  if (!isObject(destination) || destination['weight'] !== 0) return destination;
  const { weight: _zero, ...rest } = destination;
  return rest;
}

/** A deep copy as a read returns it: weights of 0 are absent (proto3 cannot tell 0 from unset). */
export function asRead(route: JsonObject): Route {
  const copy = structuredClone(route);
  const rules = copy['rules'];
  if (Array.isArray(rules)) {
    for (const rule of rules) {
      const action = isObject(rule) ? rule['action'] : undefined;
      if (!isObject(action)) continue;
      const destinations = action['destinations'];
      if (Array.isArray(destinations)) action['destinations'] = destinations.map(withoutZeroWeight);
      const mirror = action['requestMirrorPolicy'];
      if (isObject(mirror) && mirror['destination'] !== undefined) {
        mirror['destination'] = withoutZeroWeight(mirror['destination']);
      }
    }
  }
  return copy as Route;
}
