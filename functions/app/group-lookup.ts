/**
 * The group lookups the authorization policy needs (docs/security.md#authorization): none when
 * the policy names no `group:` principal. A policy that names groups needs the Cloud Identity
 * adapter; without one the controller refuses to start rather than judge members as non-members.
 */
import { policyGroups } from '../core/authz.ts';
import type { GroupMembership } from '../ports/group-membership.ts';
import type { Config } from './config.ts';
import type { Lazy } from './lifecycle-events.ts';

export function groupMembershipFor(config: Pick<Config, 'authz'>): Lazy<GroupMembership> | null {
  const groups = policyGroups(config.authz);
  if (groups.length === 0) return null;
  throw new Error(
    `AUTHZ_POLICY names groups (${groups.join(', ')}) but this build has no group membership lookup: remove the group: principals or deploy a build with the Cloud Identity adapter`,
  );
}
