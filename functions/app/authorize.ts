/**
 * Enforcing the authorization policy (docs/security.md#authorization) at the entry points: who the
 * caller is (its direct principals, and the policy's groups a verified caller is in) is checked
 * against config.authz with the pure core `authorize`. A refusal is one WARNING log line naming
 * the principals, the command and the routes (never a token), then a ForbiddenError: HTTP 403, or
 * an acknowledged Pub/Sub message. A group lookup that fails is retryable, never an allow.
 */
import { type AuthzPolicy, authorize, type PolicyCommand, policyGroups } from '../core/authz.ts';
import { type Caller, describeCaller, directPrincipals } from '../core/caller.ts';
import { ControllerError, ForbiddenError, TransientError } from '../errors.ts';
import type { GroupMembership } from '../ports/group-membership.ts';
import type { Config } from './config.ts';
import type { Lazy } from './lifecycle-events.ts';
import type { Logger } from './log.ts';

/** A refusal of the authorization policy, already logged where it was made (handlers do not log it again). */
export class PolicyRefusal extends ForbiddenError {}

export interface AuthorizeDeps {
  readonly config: Config;
  readonly log: Logger;
  /**
   * Group lookups; null or absent when the policy names no `group:` principal (then none is made).
   * Absent while the policy names groups: the caller is judged on its direct principals only.
   */
  readonly groups?: Lazy<GroupMembership> | null;
}

/**
 * The policy principals `caller` is: its direct ones, and — for a verified caller only, and only
 * when the policy names groups — the policy's groups it is a member of. No caller: none.
 */
export async function callerPrincipals(deps: AuthorizeDeps, caller: Caller | undefined): Promise<string[]> {
  if (caller === undefined) return [];
  const direct = directPrincipals(caller);
  const groups = policyGroups(deps.config.authz);
  if (caller.kind !== 'verified' || groups.length === 0 || !deps.groups) return direct;
  let found: readonly string[];
  try {
    const membership = await deps.groups();
    found = await membership.memberOf(caller.email.toLowerCase(), groups);
  } catch (error) {
    if (error instanceof ControllerError && error.retryable) throw error;
    throw new TransientError(`could not look up the groups of ${caller.email}: ${(error as Error).message}`, {
      code: 'GROUP_LOOKUP_FAILED',
      hint: 'nothing to do if it passes: the command is retried (Pub/Sub) or can be sent again (HTTP)',
      cause: error,
    });
  }
  // Only the groups asked about count, whatever the lookup answers.
  const asked = new Set(groups.map((g) => g.toLowerCase()));
  return [...direct, ...found.filter((g) => asked.has(g.toLowerCase()))];
}

/**
 * Requires that `caller` may run every one of `commands` on every one of `routes`; returns its
 * principals. Throws ForbiddenError (logged once, WARNING) on the first command it may not run.
 */
export async function authorizeCaller(
  deps: AuthorizeDeps,
  caller: Caller | undefined,
  commands: readonly PolicyCommand[],
  routes: readonly string[],
): Promise<string[]> {
  const principals = await callerPrincipals(deps, caller);
  for (const command of commands) {
    const decision = authorize(deps.config.authz, principals, command, routes);
    if (!decision.allowed) throw refused(deps.log, caller, principals, command, routes, decision.reason);
  }
  return principals;
}

/**
 * Whether any grant lets one of `principals` run `command` on some route. A caller without one
 * is refused an unknown rollout like a known one, so it cannot learn which ids exist.
 */
export function holdsAnywhere(policy: AuthzPolicy, principals: readonly string[], command: PolicyCommand) {
  const who = new Set(principals.map((p) => p.toLowerCase()));
  return policy.grants.some(
    (g) => g.commands.includes(command) && g.principals.some((p) => who.has(p.toLowerCase())),
  );
}

/**
 * For a rollout id that names no rollout: the ForbiddenError a caller without any grant of
 * `command` gets (logged once), or null when it holds one somewhere (then: not found).
 */
export async function refusalOfUnknown(
  deps: AuthorizeDeps,
  caller: Caller | undefined,
  command: PolicyCommand,
): Promise<PolicyRefusal | null> {
  const principals = await callerPrincipals(deps, caller);
  if (holdsAnywhere(deps.config.authz, principals, command)) return null;
  const named = principals.length === 0 ? 'an unidentified caller' : principals.join(', ');
  const reason = `${named} may not ${command} this rollout: no grant of the authorization policy allows it`;
  return refused(deps.log, caller, principals, command, [], reason);
}

function refused(
  log: Logger,
  caller: Caller | undefined,
  principals: readonly string[],
  command: PolicyCommand,
  routes: readonly string[],
  reason: string,
): PolicyRefusal {
  log.warn(`refused: ${reason}`, {
    code: 'FORBIDDEN',
    caller: caller === undefined ? 'unidentified' : describeCaller(caller),
    principals,
    command,
    routes,
  });
  return new PolicyRefusal(reason, principals);
}
