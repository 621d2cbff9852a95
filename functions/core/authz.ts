/**
 * The authorization policy: which principals may run which commands on which routes
 * (docs/security.md#authorization). Pure: the caller's principals (including the groups it was
 * found to be in) come in, a decision comes out.
 *
 * Principals are IAM-style member strings: `user:EMAIL`, `serviceAccount:EMAIL`, `group:EMAIL`,
 * `domain:DOMAIN` (a verified email's domain), and `topic:TOPIC` — whoever the topic's IAM lets
 * publish (Pub/Sub carries no publisher identity). Route patterns are full route names, or
 * prefixes ending in `*`; `*` alone is every route the controller manages. A command is allowed
 * when one grant names one of the caller's principals, the command, and every route it touches.
 */
import { z } from 'zod';

export const POLICY_COMMANDS = [
  'start',
  'pause',
  'resume',
  'promote',
  'abort',
  'retry',
  /** A promote that skips a pending or failed confirmPromotion hook (docs/hooks.md). */
  'overrideHooks',
] as const;
export type PolicyCommand = (typeof POLICY_COMMANDS)[number];

const PRINCIPAL =
  /^(user|serviceAccount|group):[^\s@:]+@[^\s@:]+$|^domain:[a-z0-9.-]+$|^topic:[A-Za-z][-\w.~+%]{2,254}$/;
const ROUTE_PATTERN =
  /^\*$|^projects\/[^/\s]+\/locations\/[^/\s]+\/(httpRoutes|grpcRoutes|tcpRoutes|tlsRoutes)\/[-a-z0-9]*\*?$/;

export const policySchema = z.strictObject({
  grants: z
    .array(
      z.strictObject({
        principals: z
          .array(
            z.string().regex(PRINCIPAL, {
              error: 'must be user:EMAIL, serviceAccount:EMAIL, group:EMAIL, domain:DOMAIN or topic:TOPIC',
            }),
          )
          .min(1, { error: 'must name at least one principal' })
          .max(200),
        routes: z
          .array(
            z.string().regex(ROUTE_PATTERN, {
              error: 'must be "*", a full route name, or a prefix of one ending in *',
            }),
          )
          .min(1, { error: 'must name at least one route pattern' })
          .max(200),
        commands: z
          .array(z.enum(POLICY_COMMANDS, { error: `must be one of ${POLICY_COMMANDS.join(', ')}` }))
          .min(1, { error: 'must name at least one command' }),
      }),
    )
    .max(500),
});

export type AuthzPolicy = z.output<typeof policySchema>;

/**
 * Without a configured policy: whoever may publish to the requests topic may start, whoever may
 * publish to the control topic may run every command; no HTTP caller may do anything.
 */
export function defaultPolicy(topics: { readonly requests: string; readonly control: string }): AuthzPolicy {
  return {
    grants: [
      { principals: [`topic:${topics.requests}`], routes: ['*'], commands: ['start'] },
      { principals: [`topic:${topics.control}`], routes: ['*'], commands: [...POLICY_COMMANDS] },
    ],
  };
}

export type Authorization =
  | { readonly allowed: true /** Index of the grant that allowed it. */; readonly grant: number }
  | { readonly allowed: false; readonly reason: string };

function routeMatches(pattern: string, route: string): boolean {
  if (pattern === '*') return true;
  return pattern.endsWith('*') ? route.startsWith(pattern.slice(0, -1)) : route === pattern;
}

/** Whether any of `principals` may run `command` on every one of `routes`. */
export function authorize(
  policy: AuthzPolicy,
  principals: readonly string[],
  command: PolicyCommand,
  routes: readonly string[],
): Authorization {
  const who = new Set(principals.map((p) => p.toLowerCase()));
  const index = policy.grants.findIndex(
    (g) =>
      g.commands.includes(command) &&
      g.principals.some((p) => who.has(p.toLowerCase())) &&
      routes.every((route) => g.routes.some((pattern) => routeMatches(pattern, route))),
  );
  if (index >= 0) return { allowed: true, grant: index };
  const named = principals.length === 0 ? 'an unidentified caller' : principals.join(', ');
  return {
    allowed: false,
    reason: `${named} may not ${command} on ${routes.join(', ') || 'this rollout'}: no grant of the authorization policy allows it`,
  };
}

/** The `group:` principals the policy names (the only groups worth looking a caller up in). */
export function policyGroups(policy: AuthzPolicy): string[] {
  return [...new Set(policy.grants.flatMap((g) => g.principals.filter((p) => p.startsWith('group:'))))];
}
