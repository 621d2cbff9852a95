/** Names for the parts of an HttpRoute the local mesh reads (types only, from the RouteFeed). */
import type { HttpRoute } from '../network-services/route-feed.ts';

export type { HttpRoute };
export type RouteRule = NonNullable<HttpRoute['rules']>[number];
export type RouteMatch = NonNullable<RouteRule['matches']>[number];
export type HeaderMatch = NonNullable<RouteMatch['headers']>[number];
export type QueryParameterMatch = NonNullable<RouteMatch['queryParameters']>[number];
export type RouteAction = NonNullable<RouteRule['action']>;
export type RouteDestination = NonNullable<RouteAction['destinations']>[number];
export type HeaderModifier = NonNullable<RouteAction['requestHeaderModifier']>;
export type UrlRewrite = NonNullable<RouteAction['urlRewrite']>;
export type Redirect = NonNullable<RouteAction['redirect']>;
export type FaultInjectionPolicy = NonNullable<RouteAction['faultInjectionPolicy']>;
