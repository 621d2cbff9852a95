/**
 * Who answers "which of these groups is the caller in" (docs/security.md#groups): the Cloud
 * Identity Groups API (or its local stand-in, CLOUD_IDENTITY_ENDPOINT), created on first use —
 * and nobody when the authorization policy names no `group:` principal, so no function loads
 * the client or calls the directory for nothing.
 */
import { policyGroups } from '../core/authz.ts';
import type { GroupMembership } from '../ports/group-membership.ts';
import type { Config } from './config.ts';
import type { Lazy } from './lifecycle-events.ts';
import { createLogger, type Logger } from './log.ts';

export function groupMembershipFor(
  config: Config,
  log: Logger = createLogger({ service: 'canary-controller' }),
): Lazy<GroupMembership> | null {
  if (policyGroups(config.authz).length === 0) return null;
  let pending: Promise<GroupMembership> | null = null;
  const create = async (): Promise<GroupMembership> => {
    const { cloudIdentityGroupMembership } = await import('../adapters/cloud-identity-groups.ts');
    return cloudIdentityGroupMembership({
      ...(config.endpoints.cloudIdentity ? { rootUrl: config.endpoints.cloudIdentity } : {}),
      log,
    });
  };
  return () => {
    // A failed import is tried again on the next call.
    pending ??= create().catch((error: unknown) => {
      pending = null;
      throw error;
    });
    return pending;
  };
}
