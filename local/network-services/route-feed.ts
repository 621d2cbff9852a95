/**
 * How the local mesh data plane learns routes from the local Network Services API, the way
 * Envoy learns them over xDS: it reads the routes and is told when an operation completes.
 */
import type { networkservices_v1 } from 'googleapis/build/src/apis/networkservices/v1.js';

export type HttpRoute = networkservices_v1.Schema$HttpRoute;

export interface RouteFeed {
  /** Every route as the API would return it now. */
  routes(): readonly HttpRoute[];
  /** Called after every completed write; returns an unsubscribe function. */
  subscribe(listener: () => void): () => void;
}
