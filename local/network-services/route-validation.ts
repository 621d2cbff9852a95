/**
 * What the local Network Services API accepts as an HttpRoute, with the real API's error shape
 * (400 INVALID_ARGUMENT naming the field). The JSON is kept as sent; the only normalisation is
 * the one proto3 forces on a read: a weight of 0 is indistinguishable from no weight.
 */
import { invalidArgument } from './api-error.ts';
import type { HttpRoute } from './route-feed.ts';

export type JsonObject = { [key: string]: unknown };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Rejects what the API's JSON parser would reject for this field's proto type. */
function typeError(path: string, protoType: string, value: unknown): never {
  throw invalidArgument(`Invalid value at 'http_route.${path}' (${protoType}), ${JSON.stringify(value)}`);
}

/** Field names of the HttpRoute messages (Network Services v1), as the JSON parser knows them. */
const FIELDS = {
  route: [
    'createTime',
    'description',
    'gateways',
    'hostnames',
    'labels',
    'meshes',
    'name',
    'rules',
    'selfLink',
    'updateTime',
  ],
  rule: ['action', 'matches'],
  match: ['fullPathMatch', 'headers', 'ignoreCase', 'prefixMatch', 'queryParameters', 'regexMatch'],
  action: [
    'corsPolicy',
    'destinations',
    'directResponse',
    'faultInjectionPolicy',
    'idleTimeout',
    'redirect',
    'requestHeaderModifier',
    'requestMirrorPolicy',
    'responseHeaderModifier',
    'retryPolicy',
    'statefulSessionAffinity',
    'timeout',
    'urlRewrite',
  ],
  destination: ['requestHeaderModifier', 'responseHeaderModifier', 'serviceName', 'weight'],
} as const;

/** Rejects a field the message does not have, as the API's JSON parser does. */
function checkKnown(path: string, value: JsonObject, fields: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!fields.includes(key)) {
      const at = path === '' ? 'http_route' : `http_route.${path}`;
      throw invalidArgument(
        `Invalid JSON payload received. Unknown name "${key}" at '${at}': Cannot find field.`,
      );
    }
  }
}

function checkStrings(route: JsonObject, field: string): void {
  const value = route[field];
  if (value === undefined || value === null) return;
  if (!Array.isArray(value)) typeError(field, 'TYPE_STRING', value);
  value.forEach((item, i) => {
    if (typeof item !== 'string') typeError(`${field}[${i}]`, 'TYPE_STRING', item);
  });
}

function checkWeight(path: string, weight: unknown): void {
  if (weight === undefined || weight === null) return;
  if (typeof weight !== 'number' || !Number.isInteger(weight) || Math.abs(weight) > 2 ** 31 - 1) {
    typeError(path, 'TYPE_INT32', weight);
  }
  if (weight < 0) {
    throw invalidArgument(
      `Invalid HttpRoute: ${path} is ${weight}; a destination weight must not be negative.`,
    );
  }
}

/** Backend service references the API accepts: relative names (with or without `locations/`) or compute URLs. */
const BACKEND_SERVICE =
  /^(https:\/\/(www\.googleapis\.com|compute\.googleapis\.com)\/compute\/(v1|beta|alpha)\/)?projects\/[^/]+\/(locations\/[^/]+|global|regions\/[^/]+)\/backendServices\/[^/]+$/;

function checkDestination(path: string, destination: unknown): JsonObject {
  if (!isObject(destination)) typeError(path, 'TYPE_MESSAGE', destination);
  checkKnown(path, destination, FIELDS.destination);
  const service = destination['serviceName'];
  if (typeof service !== 'string' || service === '') {
    throw invalidArgument(
      `Invalid HttpRoute: ${path}.serviceName is required (the backend service to route to).`,
    );
  }
  if (!BACKEND_SERVICE.test(service)) {
    throw invalidArgument(
      `Invalid HttpRoute: ${path}.serviceName '${service}' is not a backend service reference; use projects/PROJECT/locations/global/backendServices/NAME (or its full https://www.googleapis.com/compute/v1/ URL).`,
    );
  }
  checkWeight(`${path}.weight`, destination['weight']);
  return destination;
}

function isWeighted(destination: JsonObject): boolean {
  const weight = destination['weight'];
  return typeof weight === 'number' && weight !== 0;
}

function checkAction(path: string, action: unknown): void {
  if (action === undefined || action === null) return;
  if (!isObject(action)) typeError(path, 'TYPE_MESSAGE', action);
  checkKnown(path, action, FIELDS.action);
  const destinations = action['destinations'];
  if (destinations !== undefined && destinations !== null) {
    if (!Array.isArray(destinations)) typeError(`${path}.destinations`, 'TYPE_MESSAGE', destinations);
    const checked = destinations.map((d, i) => checkDestination(`${path}.destinations[${i}]`, d));
    const unweighted = checked.flatMap((d, i) => (isWeighted(d) ? [] : [i]));
    if (unweighted.length > 0 && unweighted.length < checked.length) {
      throw invalidArgument(
        `Invalid HttpRoute: ${path}.destinations: if a weight is specified for one destination it must be specified (and non-zero) for all of them; destinations [${unweighted.join(', ')}] have none.`,
      );
    }
  }
  const mirror = action['requestMirrorPolicy'];
  if (mirror !== undefined && mirror !== null) {
    if (!isObject(mirror)) typeError(`${path}.requestMirrorPolicy`, 'TYPE_MESSAGE', mirror);
    if (mirror['destination'] !== undefined) {
      checkDestination(`${path}.requestMirrorPolicy.destination`, mirror['destination']);
    }
  }
}

function checkRules(rules: unknown): void {
  if (rules === undefined || rules === null || (Array.isArray(rules) && rules.length === 0)) {
    throw invalidArgument('Invalid HttpRoute: rules is required and must contain at least one rule.');
  }
  if (!Array.isArray(rules)) typeError('rules', 'TYPE_MESSAGE', rules);
  rules.forEach((rule, i) => {
    if (!isObject(rule)) typeError(`rules[${i}]`, 'TYPE_MESSAGE', rule);
    checkKnown(`rules[${i}]`, rule, FIELDS.rule);
    const matches = rule['matches'];
    if (matches !== undefined && matches !== null) {
      if (!Array.isArray(matches)) typeError(`rules[${i}].matches`, 'TYPE_MESSAGE', matches);
      matches.forEach((m, j) => {
        if (!isObject(m)) typeError(`rules[${i}].matches[${j}]`, 'TYPE_MESSAGE', m);
        checkKnown(`rules[${i}].matches[${j}]`, m, FIELDS.match);
      });
    }
    checkAction(`rules[${i}].action`, rule['action']);
  });
}

/** Checks a complete route (after an update mask is applied); throws ApiError INVALID_ARGUMENT. */
export function validateRoute(route: JsonObject): void {
  checkKnown('', route, FIELDS.route);
  for (const field of ['hostnames', 'meshes', 'gateways']) checkStrings(route, field);
  const hostnames = route['hostnames'];
  if (!Array.isArray(hostnames) || hostnames.length === 0) {
    throw invalidArgument('Invalid HttpRoute: hostnames is required and must contain at least one hostname.');
  }
  hostnames.forEach((h: string, i) => {
    if (h === '') throw invalidArgument(`Invalid HttpRoute: hostnames[${i}] is empty.`);
  });
  const labels = route['labels'];
  if (labels !== undefined && labels !== null) {
    if (!isObject(labels)) typeError('labels', 'TYPE_MESSAGE', labels);
    for (const [key, value] of Object.entries(labels)) {
      if (typeof value !== 'string') typeError(`labels[${key}]`, 'TYPE_STRING', value);
    }
  }
  const description = route['description'];
  if (description !== undefined && description !== null) {
    if (typeof description !== 'string') typeError('description', 'TYPE_STRING', description);
    if (description.length > 1024) {
      throw invalidArgument('Invalid HttpRoute: description is longer than 1024 characters.');
    }
  }
  checkRules(route['rules']);
}

/** A request body that must be a JSON object (an HttpRoute). */
export function routeBody(body: unknown): JsonObject {
  if (!isObject(body)) {
    throw invalidArgument(
      `Invalid JSON payload received. Expected an HttpRoute object, got ${JSON.stringify(body)}.`,
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
export function asRead(route: JsonObject): HttpRoute {
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
  return copy as HttpRoute;
}
