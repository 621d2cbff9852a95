/**
 * The checks every route kind of the local Network Services API shares, with the real API's error
 * shape (400 INVALID_ARGUMENT naming the field): JSON parse errors for unknown fields and wrong
 * types (`Invalid value at 'grpc_route.rules[0]…'`), weights, backend references, and the
 * all-or-none rule for weights. Messages of the form "Invalid <Kind>: <field> …" are ours: Google
 * does not document its validation messages (not verified against the real API); the status,
 * code and the field they name are what matters to a client.
 */
import { invalidArgument } from './api-error.ts';
import type { KindSpec } from './route-kinds.ts';

export type JsonObject = { [key: string]: unknown };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Rejects what the API's JSON parser would reject for this field's proto type. */
export function typeError(kind: KindSpec, path: string, protoType: string, value: unknown): never {
  throw invalidArgument(`Invalid value at '${kind.field}.${path}' (${protoType}), ${JSON.stringify(value)}`);
}

/** "Invalid GrpcRoute: <what>" — a semantic check the API makes after parsing. */
export function invalid(kind: KindSpec, what: string): never {
  throw invalidArgument(`Invalid ${kind.type}: ${what}`);
}

/** Rejects a field the message does not have, as the API's JSON parser does. */
export function checkKnown(kind: KindSpec, path: string, value: JsonObject, fields: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!fields.includes(key)) {
      const at = path === '' ? kind.field : `${kind.field}.${path}`;
      throw invalidArgument(
        `Invalid JSON payload received. Unknown name "${key}" at '${at}': Cannot find field.`,
      );
    }
  }
}

/** A message-typed field: absent (null), or an object whose fields are known. */
export function message(
  kind: KindSpec,
  path: string,
  value: unknown,
  fields: readonly string[],
): JsonObject | null {
  if (value === undefined || value === null) return null;
  if (!isObject(value)) typeError(kind, path, 'TYPE_MESSAGE', value);
  checkKnown(kind, path, value, fields);
  return value;
}

/** A repeated message field: its elements, each an object with known fields (absent: none). */
export function messages(
  kind: KindSpec,
  path: string,
  value: unknown,
  fields: readonly string[],
): JsonObject[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) typeError(kind, path, 'TYPE_MESSAGE', value);
  return value.map((item, i) => message(kind, `${path}[${i}]`, item, fields) ?? {});
}

/** A repeated string field: its elements (absent: none). */
export function strings(kind: KindSpec, path: string, value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) typeError(kind, path, 'TYPE_STRING', value);
  return value.map((item, i) => {
    if (typeof item !== 'string') typeError(kind, `${path}[${i}]`, 'TYPE_STRING', item);
    return item;
  });
}

/** A string field's value ('' when absent). */
export function text(kind: KindSpec, path: string, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') typeError(kind, path, 'TYPE_STRING', value);
  return value;
}

export function checkEnum(kind: KindSpec, path: string, value: unknown, allowed: readonly string[]): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'string' || !allowed.includes(value)) typeError(kind, path, 'TYPE_ENUM', value);
}

function checkWeight(kind: KindSpec, path: string, weight: unknown): void {
  if (weight === undefined || weight === null) return;
  if (typeof weight !== 'number' || !Number.isInteger(weight) || Math.abs(weight) > 2 ** 31 - 1) {
    typeError(kind, path, 'TYPE_INT32', weight);
  }
  if (weight < 0) invalid(kind, `${path} is ${weight}; a destination weight must not be negative.`);
}

/** Backend service references the API accepts: relative names (with or without `locations/`) or compute URLs. */
const BACKEND_SERVICE =
  /^(https:\/\/(www\.googleapis\.com|compute\.googleapis\.com)\/compute\/(v1|beta|alpha)\/)?projects\/[^/]+\/(locations\/[^/]+|global|regions\/[^/]+)\/backendServices\/[^/]+$/;
/** A Service Directory service (GrpcRoute destinations may name one). */
const DIRECTORY_SERVICE = /^projects\/[^/]+\/locations\/[^/]+\/namespaces\/[^/]+\/services\/[^/]+$/;

export function checkDestination(
  kind: KindSpec,
  path: string,
  destination: JsonObject,
  serviceDirectory: boolean,
): void {
  const service = destination['serviceName'];
  if (typeof service !== 'string' || service === '') {
    invalid(kind, `${path}.serviceName is required (the backend service to route to).`);
  }
  if (!BACKEND_SERVICE.test(service) && !(serviceDirectory && DIRECTORY_SERVICE.test(service))) {
    invalid(
      kind,
      `${path}.serviceName '${service}' is not a backend service reference; use projects/PROJECT/locations/global/backendServices/NAME (or its full https://www.googleapis.com/compute/v1/ URL).`,
    );
  }
  checkWeight(kind, `${path}.weight`, destination['weight']);
}

function isWeighted(destination: JsonObject): boolean {
  const weight = destination['weight'];
  return typeof weight === 'number' && weight !== 0;
}

/** If one destination has a weight, all must (proto3: a weight of 0 is no weight). */
export function checkWeightsAllOrNone(
  kind: KindSpec,
  path: string,
  destinations: readonly JsonObject[],
): void {
  const unweighted = destinations.flatMap((d, i) => (isWeighted(d) ? [] : [i]));
  if (unweighted.length > 0 && unweighted.length < destinations.length) {
    invalid(
      kind,
      `${path}: if a weight is specified for one destination it must be specified (and non-zero) for all of them; destinations [${unweighted.join(', ')}] have none.`,
    );
  }
}

/** The `destinations` of an action: each checked, weights all or none. */
export function checkDestinations(
  kind: KindSpec,
  path: string,
  value: unknown,
  fields: readonly string[],
  serviceDirectory = false,
): JsonObject[] {
  const destinations = messages(kind, path, value, fields);
  destinations.forEach((d, i) => {
    checkDestination(kind, `${path}[${i}]`, d, serviceDirectory);
  });
  checkWeightsAllOrNone(kind, path, destinations);
  return destinations;
}
