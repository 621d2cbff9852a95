/**
 * The groups of the local Cloud Identity stand-in: each group (by email) lists its members, which
 * are user or service-account emails or other groups' emails (nested groups). A member belongs
 * to a group transitively when a chain of memberships leads from the group to it, as
 * checkTransitiveMembership answers. Emails compare case-insensitively, as Google's do.
 */
import { createHash } from 'node:crypto';

/** Group email → its direct members (emails of users, service accounts or other groups). */
export type GroupMembers = Readonly<Record<string, readonly string[]>>;

/** Group resource names are `groups/{id}`; the id is opaque (Google's look like `01abc…`). */
export function groupNameOf(email: string): string {
  const digest = createHash('sha256').update(email.toLowerCase()).digest('hex');
  return `groups/0${digest.slice(0, 14)}`;
}

export class GroupDirectory {
  /** Group email (lower case) → direct members (lower case). */
  readonly #members = new Map<string, ReadonlySet<string>>();
  /** Group resource name → group email. */
  readonly #byName = new Map<string, string>();

  constructor(groups: GroupMembers = {}) {
    this.replace(groups);
  }

  /** Replaces every group and membership (the local stack reconfiguring its directory). */
  replace(groups: GroupMembers): void {
    this.#members.clear();
    this.#byName.clear();
    for (const [group, members] of Object.entries(groups)) this.set(group, members);
  }

  /** Creates or replaces one group's direct members. */
  set(group: string, members: readonly string[]): void {
    const email = group.toLowerCase();
    this.#members.set(email, new Set(members.map((m) => m.toLowerCase())));
    this.#byName.set(groupNameOf(email), email);
  }

  /** The resource name of the group with this email, or null when there is none. */
  nameOf(email: string): string | null {
    const key = email.toLowerCase();
    return this.#members.has(key) ? groupNameOf(key) : null;
  }

  /** The email of the group with this resource name, or null. */
  emailOf(name: string): string | null {
    return this.#byName.get(name) ?? null;
  }

  /** Whether `member` is in `group` directly or through nested groups (cycles are harmless). */
  hasTransitiveMember(group: string, member: string): boolean {
    const wanted = member.toLowerCase();
    const seen = new Set<string>();
    const pending = [group.toLowerCase()];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      if (seen.has(next)) continue;
      seen.add(next);
      const members = this.#members.get(next);
      if (members === undefined) continue;
      if (members.has(wanted)) return true;
      pending.push(...members);
    }
    return false;
  }
}

/**
 * The member a checkTransitiveMembership query names: `member_key_id == 'EMAIL'` (a CEL string
 * literal: `\'` and `\\` escapes), or null when the query is not of that form.
 */
export function memberOfQuery(query: string): string | null {
  const match = /^\s*member_key_id\s*==\s*'((?:[^'\\]|\\.)*)'\s*$/.exec(query);
  if (match === null) return null;
  return (match[1] ?? '').replace(/\\(.)/g, '$1');
}
