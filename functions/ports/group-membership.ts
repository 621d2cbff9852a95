/**
 * Port: which groups a verified caller belongs to (production adapter: Cloud Identity Groups API,
 * transitive membership), so the authorization policy can name `group:` principals.
 */
export interface GroupMembership {
  /**
   * The subset of `groups` (each `group:EMAIL`) that `email` is a member of, directly or through
   * nested groups. Rejects with a retryable error when the answer cannot be had.
   */
  memberOf(email: string, groups: readonly string[]): Promise<string[]>;
}
