/**
 * How the local mesh data plane learns routes from the local Network Services API, the way
 * Envoy learns them over xDS: it reads the routes and is told when an operation completes.
 */
import type { networkservices_v1 } from 'googleapis/build/src/apis/networkservices/v1.js';

export type HttpRoute = networkservices_v1.Schema$HttpRoute;
export type GrpcRoute = networkservices_v1.Schema$GrpcRoute;
export type TcpRoute = networkservices_v1.Schema$TcpRoute;
export type TlsRoute = networkservices_v1.Schema$TlsRoute;
/** A route of any of the four kinds. */
export type Route = HttpRoute | GrpcRoute | TcpRoute | TlsRoute;

export interface RouteFeed {
  /** Every HTTPRoute as the API would return it now. */
  routes(): readonly HttpRoute[];
  /** Every GRPCRoute, TCPRoute and TLSRoute as the API would return it now. */
  grpcRoutes(): readonly GrpcRoute[];
  tcpRoutes(): readonly TcpRoute[];
  tlsRoutes(): readonly TlsRoute[];
  /** Called after every completed write; returns an unsubscribe function. */
  subscribe(listener: () => void): () => void;
}
