/** GroupMembership in memory: who is in which group, and every lookup made (to prove none was). */
import type { GroupMembership } from '../../functions/ports/group-membership.ts';

export class MemoryGroups implements GroupMembership {
  readonly lookups: { readonly email: string; readonly groups: readonly string[] }[] = [];
  /** Set to make every lookup fail (the API unreachable). */
  failWith: Error | null = null;

  readonly members: Readonly<Record<string, readonly string[]>>;

  constructor(members: Readonly<Record<string, readonly string[]>> = {}) {
    this.members = members;
  }

  async memberOf(email: string, groups: readonly string[]): Promise<string[]> {
    this.lookups.push({ email, groups });
    if (this.failWith !== null) throw this.failWith;
    return (this.members[email] ?? []).filter((g) => groups.includes(g));
  }
}
