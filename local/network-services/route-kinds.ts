/**
 * The four Service Routing collections the local Network Services API serves, and what differs
 * between them on the wire: the resource's type name in messages and `@type`, its proto field
 * name in JSON parse errors, the create id parameter, the list response key, and the top-level
 * fields an update mask may name.
 */
import { ROUTE_KINDS } from '../../functions/core/request.ts';
import type { RouteKind } from '../../functions/core/targets.ts';

export type { RouteKind };
export { ROUTE_KINDS };

export interface KindSpec {
  readonly collection: RouteKind;
  /** The message name: HttpRoute, GrpcRoute, TcpRoute, TlsRoute. */
  readonly type: string;
  /** The request field in the proto (http_route, …), as JSON parse errors name it. */
  readonly field: string;
  /** The query parameter of create (httpRouteId, …). */
  readonly idParameter: string;
  /** Top-level fields an update mask may name. */
  readonly maskable: readonly string[];
}

const COMMON = ['rules', 'labels', 'description', 'meshes', 'gateways'] as const;

export const KINDS: Record<RouteKind, KindSpec> = {
  httpRoutes: {
    collection: 'httpRoutes',
    type: 'HttpRoute',
    field: 'http_route',
    idParameter: 'httpRouteId',
    maskable: ['hostnames', ...COMMON],
  },
  grpcRoutes: {
    collection: 'grpcRoutes',
    type: 'GrpcRoute',
    field: 'grpc_route',
    idParameter: 'grpcRouteId',
    maskable: ['hostnames', ...COMMON],
  },
  tcpRoutes: {
    collection: 'tcpRoutes',
    type: 'TcpRoute',
    field: 'tcp_route',
    idParameter: 'tcpRouteId',
    maskable: [...COMMON],
  },
  tlsRoutes: {
    collection: 'tlsRoutes',
    type: 'TlsRoute',
    field: 'tls_route',
    idParameter: 'tlsRouteId',
    maskable: [...COMMON, 'targetProxies'],
  },
};

/** `type.googleapis.com/google.cloud.networkservices.v1.GrpcRoute`, …: the `@type` of an operation's response. */
export function typeUrl(kind: KindSpec): string {
  return `type.googleapis.com/google.cloud.networkservices.v1.${kind.type}`;
}

export function isRouteKind(collection: string): collection is RouteKind {
  return (ROUTE_KINDS as readonly string[]).includes(collection);
}
