/**
 * GroupMembership on the Cloud Identity Groups API v1, through the single-API googleapis client:
 * `groups.lookup` (groupKey.id = the group's email → `groups/ID`), then
 * `groups.memberships.checkTransitiveMembership` (parent `groups/ID`, query
 * `member_key_id == 'EMAIL'` → `hasMembership`), so nested groups count. Answers are cached
 * (group-membership-cache.ts).
 *
 * What a failure means (docs/security.md#groups):
 * - 403/404/400 on a group (it does not exist, the controller may not see it, or its id is not a
 *   group's): that group grants nothing; logged once per group with what to fix.
 * - 429, 5xx, a timeout or no answer: TransientError (retryable) — never taken as membership.
 * - 401 (the controller's own credentials): RefusedError; a person must fix the credentials.
 *
 * Production authenticates with Application Default Credentials (scope
 * cloud-identity.groups.readonly); with `rootUrl` (the local stand-in) no credentials are sent.
 */
import { auth, cloudidentity, type cloudidentity_v1 } from 'googleapis/build/src/apis/cloudidentity/index.js';
import type { Logger } from '../app/log.ts';
import { RefusedError, TransientError } from '../errors.ts';
import type { GroupMembership } from '../ports/group-membership.ts';
import { classifyGoogleError } from './google-errors.ts';
import { CachingGroupMembership, type MembershipCacheOptions, TtlCache } from './group-membership-cache.ts';

export const GROUPS_SCOPE = 'https://www.googleapis.com/auth/cloud-identity.groups.readonly';

export interface CloudIdentityGroupsOptions {
  /** A local stand-in, e.g. http://127.0.0.1:PORT/; production leaves it unset. */
  readonly rootUrl?: string;
  /** Per request; default 5 s. */
  readonly timeoutMs?: number;
  readonly log: Logger;
  readonly cache?: MembershipCacheOptions;
}

/** Most groups whose name (or failure) and report are remembered. */
const MAX_GROUPS = 1000;
const NAME_TTL_MS = 5 * 60_000;
const NO_GROUP_TTL_MS = 60_000;

/** `EMAIL` as a CEL string literal between single quotes. */
export function celString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

type Api = cloudidentity_v1.Cloudidentity;

/** One (email, group) question at a time against the API; the group's name is cached. */
export class CloudIdentityGroupChecker {
  readonly #api: Api;
  readonly #timeoutMs: number;
  readonly #log: Logger;
  /** Group email → `groups/ID`, or null: the group grants nothing (403/404/400). */
  readonly #names: TtlCache<string, string | null>;
  readonly #reported = new Set<string>();

  constructor(options: CloudIdentityGroupsOptions) {
    this.#api =
      options.rootUrl === undefined
        ? cloudidentity({ version: 'v1', auth: new auth.GoogleAuth({ scopes: [GROUPS_SCOPE] }) })
        : cloudidentity({ version: 'v1', rootUrl: options.rootUrl });
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#log = options.log;
    this.#names = new TtlCache(MAX_GROUPS, options.cache?.clock ?? (() => Date.now()));
  }

  /** Whether `email` is in the group `group` (an email), directly or through nested groups. */
  readonly check = async (email: string, group: string): Promise<boolean> => {
    const name = await this.#nameOf(group);
    if (name === null) return false;
    try {
      const response = await this.#api.groups.memberships.checkTransitiveMembership(
        { parent: name, query: `member_key_id == ${celString(email)}` },
        this.#requestOptions(),
      );
      return response.data.hasMembership === true;
    } catch (error) {
      return this.#grantsNothing(error, group, 'checking membership in');
    }
  };

  async #nameOf(group: string): Promise<string | null> {
    const cached = this.#names.get(group);
    if (cached !== undefined) return cached;
    try {
      const response = await this.#api.groups.lookup({ 'groupKey.id': group }, this.#requestOptions());
      const name = response.data.name;
      if (typeof name !== 'string' || !/^groups\/[^/?#]+$/.test(name)) {
        throw new Error(`groups.lookup of ${group} answered without a group name`);
      }
      this.#names.set(group, name, NAME_TTL_MS);
      return name;
    } catch (error) {
      this.#grantsNothing(error, group, 'looking up');
      this.#names.set(group, null, NO_GROUP_TTL_MS);
      return null;
    }
  }

  #requestOptions() {
    return { retry: false, timeout: this.#timeoutMs };
  }

  /** `false` for a group that grants nothing (logged once); throws for what may pass or needs a person. */
  #grantsNothing(error: unknown, group: string, action: string): false {
    const failure = classifyGoogleError(error);
    const message = `${action} group ${group} failed: ${failure.detail}`;
    if (failure.kind === 'transient' || failure.kind === 'conflict') {
      throw new TransientError(message, {
        code: failure.httpStatus === 429 ? 'GROUPS_QUOTA' : 'GROUPS_UNAVAILABLE',
        hint: 'the Cloud Identity Groups API failed or could not be reached; retried automatically',
        cause: error,
      });
    }
    if (failure.kind === 'unauthenticated') {
      throw new RefusedError(message, {
        code: 'GROUPS_UNAUTHENTICATED',
        hint: "the function's credentials were refused by the Cloud Identity API; check its service account",
        cause: error,
      });
    }
    this.#reportOnce(group, message);
    return false;
  }

  #reportOnce(group: string, message: string): void {
    if (this.#reported.has(group)) return;
    if (this.#reported.size >= MAX_GROUPS) this.#reported.clear();
    this.#reported.add(group);
    this.#log.warn(`group:${group} grants nothing: ${message}`, {
      group,
      hint: "the group must exist and the controller's service account must be able to read its members (Groups Reader; docs/security.md#groups)",
    });
  }
}

/** The production GroupMembership: Cloud Identity, cached. */
export function cloudIdentityGroupMembership(options: CloudIdentityGroupsOptions): GroupMembership {
  const checker = new CloudIdentityGroupChecker(options);
  return new CachingGroupMembership(checker.check, options.cache);
}
