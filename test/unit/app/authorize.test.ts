/**
 * authorizeCaller: the caller's principals (direct, plus the policy's groups a verified caller is
 * in) against the policy; a refusal is one WARNING line with the principals and a ForbiddenError.
 */
import { describe, expect, it } from 'vitest';
import {
  authorizeCaller,
  callerPrincipals,
  holdsAnywhere,
  PolicyRefusal,
  refusalOfUnknown,
} from '../../../functions/app/authorize.ts';
import { loadConfig } from '../../../functions/app/config.ts';
import { createLogger } from '../../../functions/app/log.ts';
import type { AuthzPolicy } from '../../../functions/core/authz.ts';
import type { Caller } from '../../../functions/core/caller.ts';
import { ForbiddenError, TransientError } from '../../../functions/errors.ts';
import type { GroupMembership } from '../../../functions/ports/group-membership.ts';
import { MemoryGroups } from '../../support/memory-groups.ts';

const ROUTES = 'projects/demo-project/locations/global/httpRoutes';
const SHOP = `${ROUTES}/shop-web`;
const BANK = `${ROUTES}/bank`;

const POLICY: AuthzPolicy = {
  grants: [
    { principals: ['topic:rollout-control'], routes: [`${ROUTES}/shop-*`], commands: ['pause', 'abort'] },
    { principals: ['group:sre@example.com'], routes: ['*'], commands: ['promote', 'overrideHooks'] },
    { principals: ['domain:example.com'], routes: [BANK], commands: ['resume'] },
  ],
};

const topic: Caller = { kind: 'topic', topic: 'rollout-control', claimed: 'mallory' };
const ann: Caller = { kind: 'verified', email: 'Ann@Example.com', checkedBy: 'cloudRun', claimed: null };

function setup(policy: AuthzPolicy = POLICY, groups: GroupMembership | null = new MemoryGroups()) {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({}, (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  const config = {
    ...loadConfig({ GOOGLE_CLOUD_PROJECT: 'demo-project', ALLOWED_ROUTES: `${ROUTES}/*` }),
    authz: policy,
  };
  const deps = { config, log, groups: groups === null ? null : async () => groups };
  return { deps, lines };
}

async function refusal(work: Promise<unknown>): Promise<ForbiddenError> {
  const error = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ForbiddenError);
  return error as ForbiddenError;
}

describe('authorizeCaller', () => {
  it('allows a topic caller what its grant names on routes its patterns match, logging nothing', async () => {
    const { deps, lines } = setup();
    expect(await authorizeCaller(deps, topic, ['pause'], [SHOP])).toEqual(['topic:rollout-control']);
    expect(lines).toEqual([]);
  });

  it('refuses a command outside the grant with one WARNING naming principals, command and routes', async () => {
    const { deps, lines } = setup();
    const error = await refusal(authorizeCaller(deps, topic, ['promote'], [SHOP]));
    expect(error).toBeInstanceOf(PolicyRefusal);
    expect(error.code).toBe('FORBIDDEN');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('topic:rollout-control may not promote');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      severity: 'WARNING',
      code: 'FORBIDDEN',
      caller: 'topic:rollout-control (claimed: mallory)',
      principals: ['topic:rollout-control'],
      command: 'promote',
      routes: [SHOP],
    });
  });

  it('refuses when one of several routes is outside every pattern', async () => {
    const { deps } = setup();
    await refusal(authorizeCaller(deps, topic, ['abort'], [SHOP, BANK]));
  });

  it('needs every command asked for (promote and overrideHooks)', async () => {
    const { deps } = setup(POLICY, new MemoryGroups({ 'ann@example.com': ['group:sre@example.com'] }));
    const bob: Caller = {
      kind: 'verified',
      email: 'bob@example.com',
      checkedBy: 'controller',
      claimed: null,
    };
    await expect(authorizeCaller(deps, ann, ['promote', 'overrideHooks'], [BANK])).resolves.toContain(
      'group:sre@example.com',
    );
    await refusal(authorizeCaller(deps, bob, ['promote', 'overrideHooks'], [BANK]));
    await refusal(authorizeCaller(deps, topic, ['pause', 'promote'], [SHOP]));
  });

  it('refuses an unidentified caller', async () => {
    const { deps } = setup();
    const error = await refusal(authorizeCaller(deps, undefined, ['pause'], [SHOP]));
    expect(error.principals).toEqual([]);
    expect(error.message).toContain('an unidentified caller');
  });
});

describe('principals', () => {
  it('a verified caller: its member, its domain and the policy groups the lookup finds (case-insensitive)', async () => {
    const groups = new MemoryGroups({ 'ann@example.com': ['group:sre@example.com'] });
    const { deps } = setup(POLICY, groups);
    expect(await callerPrincipals(deps, ann)).toEqual([
      'user:ann@example.com',
      'domain:example.com',
      'group:sre@example.com',
    ]);
    expect(groups.lookups).toEqual([{ email: 'ann@example.com', groups: ['group:sre@example.com'] }]);
    await expect(authorizeCaller(deps, ann, ['resume'], [BANK])).resolves.toBeDefined();
  });

  it('looks nobody up when the policy names no group, nor for a topic caller', async () => {
    const groups = new MemoryGroups();
    const noGroups: AuthzPolicy = { grants: [POLICY.grants[0], POLICY.grants[2]].flatMap((g) => g ?? []) };
    await callerPrincipals(setup(noGroups, groups).deps, ann);
    await callerPrincipals(setup(POLICY, groups).deps, topic);
    expect(groups.lookups).toEqual([]);
  });

  it('counts only the groups the policy names, whatever the lookup answers', async () => {
    const lax: GroupMembership = {
      memberOf: async () => ['group:sre@example.com', 'group:admins@example.com'],
    };
    const { deps } = setup(POLICY, lax);
    expect(await callerPrincipals(deps, ann)).not.toContain('group:admins@example.com');
  });

  it('a failed lookup is retryable and never an allow', async () => {
    const groups = new MemoryGroups({ 'Ann@Example.com': ['group:sre@example.com'] });
    groups.failWith = new Error('cloudidentity.googleapis.com: 503');
    const { deps, lines } = setup(POLICY, groups);
    const error = await authorizeCaller(deps, ann, ['promote'], [SHOP]).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TransientError);
    expect((error as TransientError).code).toBe('GROUP_LOOKUP_FAILED');
    expect((error as TransientError).retryable).toBe(true);
    expect(lines).toEqual([]);
  });
});

describe('unknown rollouts', () => {
  it('a caller holding the command nowhere is refused; one holding it somewhere is not', async () => {
    const { deps, lines } = setup();
    expect(holdsAnywhere(POLICY, ['topic:rollout-control'], 'pause')).toBe(true);
    expect(holdsAnywhere(POLICY, ['topic:rollout-control'], 'retry')).toBe(false);
    expect(await refusalOfUnknown(deps, topic, 'pause')).toBeNull();
    const refused = await refusalOfUnknown(deps, topic, 'retry');
    expect(refused).toBeInstanceOf(ForbiddenError);
    expect(refused?.message).toBe(
      'topic:rollout-control may not retry this rollout: no grant of the authorization policy allows it',
    );
    expect(lines).toHaveLength(1);
  });
});
