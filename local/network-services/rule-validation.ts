/**
 * The rules of each route kind as the local Network Services API checks them, following the v1
 * REST reference (field behaviours and the documented constraints):
 *
 *   HttpRoute  matches (path/headers/query), an optional action (destinations, redirect, …)
 *   GrpcRoute  matches by method (grpcService and grpcMethod required, type EXACT|REGULAR_EXPRESSION,
 *              caseSensitive not with REGULAR_EXPRESSION) and headers (key, value); action required
 *              with destinations (backend or Service Directory services)
 *   TcpRoute   matches by address (IPv4 CIDR) and port, both required; action required with either
 *              destinations or originalDestination, not both
 *   TlsRoute   matches required, each with sniHost or alpn (no partial wildcards; at most 5 ALPNs
 *              across the route); action required with destinations
 *
 * Messages name the field as "Invalid <Kind>: rules[i]…"; Google's own wording is not documented
 * (not verified), the status (400 INVALID_ARGUMENT) and the field named are.
 */
import type { KindSpec, RouteKind } from './route-kinds.ts';
import {
  checkDestinations,
  checkEnum,
  invalid,
  type JsonObject,
  message,
  messages,
  strings,
  text,
  typeError,
} from './validation-basics.ts';

const HTTP = {
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

const GRPC = {
  match: ['headers', 'method'],
  method: ['caseSensitive', 'grpcMethod', 'grpcService', 'type'],
  header: ['key', 'type', 'value'],
  action: [
    'destinations',
    'faultInjectionPolicy',
    'idleTimeout',
    'retryPolicy',
    'statefulSessionAffinity',
    'timeout',
  ],
  destination: ['serviceName', 'weight'],
} as const;

const TCP = {
  match: ['address', 'port'],
  action: ['destinations', 'idleTimeout', 'originalDestination'],
  destination: ['serviceName', 'weight'],
} as const;

const TLS = {
  match: ['alpn', 'sniHost'],
  action: ['destinations', 'idleTimeout'],
  destination: ['serviceName', 'weight'],
} as const;

const MATCH_TYPES = ['EXACT', 'REGULAR_EXPRESSION'] as const;

function httpRule(kind: KindSpec, path: string, rule: JsonObject): void {
  messages(kind, `${path}.matches`, rule['matches'], HTTP.match);
  const action = message(kind, `${path}.action`, rule['action'], HTTP.action);
  if (action === null) return;
  checkDestinations(kind, `${path}.action.destinations`, action['destinations'], HTTP.destination);
  const mirror = message(kind, `${path}.action.requestMirrorPolicy`, action['requestMirrorPolicy'], [
    'destination',
    'mirrorPercent',
  ]);
  const mirrored = mirror?.['destination'];
  if (mirrored !== undefined && mirrored !== null) {
    // The mirror's one destination is checked like any (its weight is ignored by the API).
    checkDestinations(kind, `${path}.action.requestMirrorPolicy.destination`, [mirrored], HTTP.destination);
  }
}

function requiredAction(
  kind: KindSpec,
  path: string,
  rule: JsonObject,
  fields: readonly string[],
): JsonObject {
  const action = message(kind, `${path}.action`, rule['action'], fields);
  if (action === null) invalid(kind, `${path}.action is required.`);
  return action;
}

function requiredDestinations(
  kind: KindSpec,
  path: string,
  action: JsonObject,
  serviceDirectory = false,
): void {
  const fields = kind.collection === 'grpcRoutes' ? GRPC.destination : TCP.destination;
  const destinations = checkDestinations(kind, path, action['destinations'], fields, serviceDirectory);
  if (destinations.length === 0) invalid(kind, `${path}: at least one destination is required.`);
}

function grpcMethod(kind: KindSpec, path: string, method: JsonObject | null): void {
  if (method === null) return;
  for (const field of ['grpcService', 'grpcMethod']) {
    if (text(kind, `${path}.${field}`, method[field]) === '') invalid(kind, `${path}.${field} is required.`);
  }
  checkEnum(kind, `${path}.type`, method['type'], MATCH_TYPES);
  const caseSensitive = method['caseSensitive'];
  if (caseSensitive !== undefined && caseSensitive !== null && typeof caseSensitive !== 'boolean') {
    typeError(kind, `${path}.caseSensitive`, 'TYPE_BOOL', caseSensitive);
  }
  if (method['type'] === 'REGULAR_EXPRESSION' && caseSensitive !== undefined && caseSensitive !== null) {
    invalid(kind, `${path}.caseSensitive must not be used with a type of REGULAR_EXPRESSION.`);
  }
}

function grpcRule(kind: KindSpec, path: string, rule: JsonObject): void {
  messages(kind, `${path}.matches`, rule['matches'], GRPC.match).forEach((match, j) => {
    const at = `${path}.matches[${j}]`;
    grpcMethod(kind, `${at}.method`, message(kind, `${at}.method`, match['method'], GRPC.method));
    messages(kind, `${at}.headers`, match['headers'], GRPC.header).forEach((header, k) => {
      for (const field of ['key', 'value']) {
        const value = text(kind, `${at}.headers[${k}].${field}`, header[field]);
        if (value === '') invalid(kind, `${at}.headers[${k}].${field} is required.`);
      }
      checkEnum(kind, `${at}.headers[${k}].type`, header['type'], MATCH_TYPES);
    });
  });
  const action = requiredAction(kind, path, rule, GRPC.action);
  requiredDestinations(kind, `${path}.action.destinations`, action, true);
}

/** An IPv4 address with an optional prefix length: 10.0.0.1, 10.0.0.0/8, 0.0.0.0/0. */
const IPV4_CIDR =
  /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\/(3[0-2]|[12]?\d))?$/;

function tcpRule(kind: KindSpec, path: string, rule: JsonObject): void {
  messages(kind, `${path}.matches`, rule['matches'], TCP.match).forEach((match, j) => {
    const at = `${path}.matches[${j}]`;
    const address = text(kind, `${at}.address`, match['address']);
    if (address === '') invalid(kind, `${at}.address is required.`);
    if (!IPV4_CIDR.test(address)) {
      invalid(kind, `${at}.address '${address}' must be an IPv4 address or CIDR range (e.g. 10.0.0.0/8).`);
    }
    const port = text(kind, `${at}.port`, match['port']);
    if (port === '') invalid(kind, `${at}.port is required.`);
    if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
      invalid(kind, `${at}.port '${port}' must be a port number between 1 and 65535.`);
    }
  });
  const action = requiredAction(kind, path, rule, TCP.action);
  const original = action['originalDestination'];
  if (original !== undefined && original !== null && typeof original !== 'boolean') {
    typeError(kind, `${path}.action.originalDestination`, 'TYPE_BOOL', original);
  }
  if (original !== true) {
    requiredDestinations(kind, `${path}.action.destinations`, action);
    return;
  }
  const destinations = checkDestinations(
    kind,
    `${path}.action.destinations`,
    action['destinations'],
    TCP.destination,
  );
  if (destinations.length > 0) {
    invalid(kind, `${path}.action: only one of destinations or originalDestination can be set.`);
  }
}

/** A host name or a wildcard `*.example.com`; a partial wildcard (`*w.example.com`) is invalid. */
const SNI_HOST = /^(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

function tlsRule(kind: KindSpec, path: string, rule: JsonObject): number {
  const matches = messages(kind, `${path}.matches`, rule['matches'], TLS.match);
  if (matches.length === 0) invalid(kind, `${path}.matches is required and must contain at least one match.`);
  let alpns = 0;
  matches.forEach((match, j) => {
    const at = `${path}.matches[${j}]`;
    const hosts = strings(kind, `${at}.sniHost`, match['sniHost']);
    const alpn = strings(kind, `${at}.alpn`, match['alpn']);
    if (hosts.length === 0 && alpn.length === 0)
      invalid(kind, `${at}: at least one of sniHost and alpn is required.`);
    hosts.forEach((host, k) => {
      if (!SNI_HOST.test(host)) {
        invalid(
          kind,
          `${at}.sniHost[${k}] '${host}' is not a host name or a wildcard *.domain (partial wildcards are not supported).`,
        );
      }
    });
    alpns += alpn.length;
  });
  const action = requiredAction(kind, path, rule, TLS.action);
  requiredDestinations(kind, `${path}.action.destinations`, action);
  return alpns;
}

/** Checks one rule of the kind (`path` is `rules[i]`); for a TlsRoute, returns its ALPN count. */
const RULE_CHECKS: Record<RouteKind, (kind: KindSpec, path: string, rule: JsonObject) => number | undefined> =
  {
    httpRoutes: (kind, path, rule) => {
      httpRule(kind, path, rule);
      return undefined;
    },
    grpcRoutes: (kind, path, rule) => {
      grpcRule(kind, path, rule);
      return undefined;
    },
    tcpRoutes: (kind, path, rule) => {
      tcpRule(kind, path, rule);
      return undefined;
    },
    tlsRoutes: tlsRule,
  };

/** Checks `rules` (required, at least one) of a route of `kind`; throws ApiError INVALID_ARGUMENT. */
export function checkRules(kind: KindSpec, rules: unknown): void {
  const checked = messages(kind, 'rules', rules, ['action', 'matches']);
  if (checked.length === 0) invalid(kind, 'rules is required and must contain at least one rule.');
  const alpns = checked.reduce(
    (sum, rule, i) => sum + (RULE_CHECKS[kind.collection](kind, `rules[${i}]`, rule) ?? 0),
    0,
  );
  if (alpns > 5) invalid(kind, `at most 5 alpn values can be set across all matches; found ${alpns}.`);
}
