/**
 * The four Service Routing collections of the Network Services v1 client, behind one shape: get
 * a route, patch its `rules`. The collection is the route name's (projects/P/locations/L/<kind>/R),
 * so the rules sent back are always those read from the same kind; the casts below only tell the
 * client's per-kind types what the name already guarantees.
 */
import type { networkservices_v1 } from 'googleapis/build/src/apis/networkservices/v1.js';
import type { RouteKind } from '../core/targets.ts';
import type { GrpcRoute, HttpRoute, Route, RouteRule, TcpRoute, TlsRoute } from './route-rules.ts';

type Operation = networkservices_v1.Schema$Operation;

export interface RouteCollection {
  get(name: string, timeoutMs: number): Promise<Route>;
  /** PATCH with updateMask=rules: only the rules change, the whole array as given. */
  patchRules(name: string, rules: readonly RouteRule[], timeoutMs: number): Promise<Operation>;
}

const options = (timeout: number) => ({ retry: false, timeout });

function patchBody(rules: readonly RouteRule[]) {
  return { updateMask: 'rules', requestBody: { rules: [...rules] } };
}

export function collectionFor(api: networkservices_v1.Networkservices, kind: RouteKind): RouteCollection {
  const locations = api.projects.locations;
  switch (kind) {
    case 'httpRoutes':
      return {
        get: async (name, t) => (await locations.httpRoutes.get({ name }, options(t))).data,
        patchRules: async (name, rules, t) => {
          const body = patchBody(rules) as { updateMask: string; requestBody: HttpRoute };
          return (await locations.httpRoutes.patch({ name, ...body }, options(t))).data;
        },
      };
    case 'grpcRoutes':
      return {
        get: async (name, t) => (await locations.grpcRoutes.get({ name }, options(t))).data,
        patchRules: async (name, rules, t) => {
          const body = patchBody(rules) as { updateMask: string; requestBody: GrpcRoute };
          return (await locations.grpcRoutes.patch({ name, ...body }, options(t))).data;
        },
      };
    case 'tcpRoutes':
      return {
        get: async (name, t) => (await locations.tcpRoutes.get({ name }, options(t))).data,
        patchRules: async (name, rules, t) => {
          const body = patchBody(rules) as { updateMask: string; requestBody: TcpRoute };
          return (await locations.tcpRoutes.patch({ name, ...body }, options(t))).data;
        },
      };
    case 'tlsRoutes':
      return {
        get: async (name, t) => (await locations.tlsRoutes.get({ name }, options(t))).data,
        patchRules: async (name, rules, t) => {
          const body = patchBody(rules) as { updateMask: string; requestBody: TlsRoute };
          return (await locations.tlsRoutes.patch({ name, ...body }, options(t))).data;
        },
      };
  }
}
