/**
 * Who the local cloud knows: test identities that call the HTTP functions with ID tokens signed by
 * the local IAM stand-in (local/iam/signer.ts), the account the local Workflows runner calls
 * advanceRollout as, and the authorization policy the local controller runs with
 * (docs/security.md). The local verifier accepts these tokens only in local mode
 * (ID_TOKEN_JWKS_URL/ID_TOKEN_ISSUERS are refused outside it).
 */
import { CachingIdTokenSource, iamCredentialsMinter } from '../functions/adapters/id-tokens.ts';
import { type AuthzPolicy, defaultPolicy, POLICY_COMMANDS } from '../functions/core/authz.ts';
import { TOPICS } from '../functions/manifest.ts';
import type { OidcMinter } from './workflows/http.ts';

/** Test identities: two operators who may run every command on every route, and a viewer who may run none. */
export const LOCAL_IDENTITIES = {
  operator: 'operator@example.com',
  oncall: 'oncall@example.com',
  viewer: 'viewer@example.com',
} as const;

/** The account local workflow executions run as (and call advanceRollout as). */
export function workflowsServiceAccount(project: string): string {
  return `local-workflows@${project}.iam.gserviceaccount.com`;
}

/** AUTHZ_POLICY of the local controller: the operators on every route, plus the topic grants. */
export const LOCAL_POLICY: AuthzPolicy = {
  grants: [
    {
      principals: [`user:${LOCAL_IDENTITIES.operator}`, `user:${LOCAL_IDENTITIES.oncall}`],
      routes: ['*'],
      commands: [...POLICY_COMMANDS],
    },
    ...defaultPolicy({ requests: TOPICS.requests, control: TOPICS.control }).grants,
  ],
};

/**
 * Mints ID tokens as any service account the local IAM stand-in knows (through its
 * generateIdToken, like Workflows' `auth: {type: OIDC}`), cached per account and audience.
 */
export function iamOidcMinter(iamUrl: string): OidcMinter {
  const sources = new Map<string, CachingIdTokenSource>();
  return (serviceAccount, audience) => {
    let source = sources.get(serviceAccount);
    if (source === undefined) {
      source = new CachingIdTokenSource(iamCredentialsMinter(serviceAccount, iamUrl));
      sources.set(serviceAccount, source);
    }
    return source.token(audience);
  };
}
