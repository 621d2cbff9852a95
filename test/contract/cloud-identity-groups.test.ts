/**
 * The production GroupMembership (Cloud Identity Groups API through the googleapis client)
 * against the local stand-in on the real wire format: members directly and through nested
 * groups, non-members, unknown groups, and failures — a 503 or a hang is a retryable error
 * (never membership), a 403 means the group grants nothing.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { celString, cloudIdentityGroupMembership } from '../../functions/adapters/cloud-identity-groups.ts';
import { loadConfig } from '../../functions/app/config.ts';
import { groupMembershipFor } from '../../functions/app/group-lookup.ts';
import { createLogger } from '../../functions/app/log.ts';
import { isRetryable, RefusedError, TransientError } from '../../functions/errors.ts';
import type { GroupMembership } from '../../functions/ports/group-membership.ts';
import { type CloudIdentityServer, startCloudIdentityServer } from '../../local/cloud-identity/server.ts';

const OPS = 'group:rollout-operators@example.test';
const ONCALL = 'group:oncall@example.test';
const SRE = 'group:sre@example.test';

let server: CloudIdentityServer;
let logs: Record<string, unknown>[];
let groups: GroupMembership;

beforeAll(async () => {
  server = await startCloudIdentityServer({
    groups: {
      'rollout-operators@example.test': ['oncall@example.test', 'lead@example.test'],
      'oncall@example.test': ['alice@example.test', "o'brien@example.test"],
      'sre@example.test': ['deployer@p.iam.gserviceaccount.com', 'rollout-operators@example.test'],
    },
  });
});
afterAll(() => server.close());

beforeEach(() => {
  logs = [];
  groups = cloudIdentityGroupMembership({
    rootUrl: server.url,
    timeoutMs: 500,
    log: createLogger({}, (line) => logs.push(JSON.parse(line) as Record<string, unknown>)),
  });
});
afterEach(() => server.clearFaults());

describe('membership on the wire', () => {
  it('finds direct and nested members, case-insensitively, and keeps the groups as asked', async () => {
    expect(await groups.memberOf('lead@example.test', [OPS, ONCALL, SRE])).toEqual([OPS, SRE]);
    expect(await groups.memberOf('Alice@Example.test', [OPS, ONCALL, SRE])).toEqual([OPS, ONCALL, SRE]);
    expect(await groups.memberOf('deployer@p.iam.gserviceaccount.com', [OPS, SRE])).toEqual([SRE]);
  });

  it('answers nothing for a non-member, or when no group is asked about', async () => {
    expect(await groups.memberOf('mallory@example.test', [OPS, ONCALL, SRE])).toEqual([]);
    expect(await groups.memberOf('alice@example.test', [])).toEqual([]);
    expect(await groups.memberOf('alice@example.test', ['user:alice@example.test'])).toEqual([]);
  });

  it('quotes the member in the CEL query (an apostrophe cannot change the query)', async () => {
    expect(celString("o'brien@example.test")).toBe("'o\\'brien@example.test'");
    expect(await groups.memberOf("o'brien@example.test", [ONCALL])).toEqual([ONCALL]);
    expect(await groups.memberOf("x' || true || '@example.test", [ONCALL])).toEqual([]);
  });

  it('an unknown group grants nothing and is logged once, naming the group', async () => {
    const ghost = 'group:ghost@example.test';
    expect(await groups.memberOf('alice@example.test', [ghost, ONCALL])).toEqual([ONCALL]);
    expect(await groups.memberOf('lead@example.test', [ghost])).toEqual([]);
    const reports = logs.filter((l) => l['group'] === 'ghost@example.test');
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({
      severity: 'WARNING',
      message: expect.stringMatching(/404 NOT_FOUND/),
    });
  });

  it('a group the controller may not read (403) grants nothing, logged with what to fix', async () => {
    server.fail(403, { group: 'sre@example.test' });
    expect(await groups.memberOf('lead@example.test', [OPS, SRE])).toEqual([OPS]);
    expect(logs).toContainEqual(
      expect.objectContaining({ group: 'sre@example.test', hint: expect.stringMatching(/Groups Reader/) }),
    );
  });

  it('asks once per (member, group) while the answer is fresh', async () => {
    const before = server.requests.length;
    await groups.memberOf('lead@example.test', [OPS, SRE]);
    const asked = server.requests.length - before;
    expect(asked).toBe(4);
    await groups.memberOf('lead@example.test', [SRE, OPS]);
    expect(server.requests.length - before).toBe(asked);
  });
});

describe('failures are retryable, never membership', () => {
  it('503 from the directory → TransientError', async () => {
    server.fail(503);
    const failure = await groups.memberOf('alice@example.test', [ONCALL]).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TransientError);
    expect(isRetryable(failure)).toBe(true);
    expect((failure as TransientError).code).toBe('GROUPS_UNAVAILABLE');
  });

  it('a 503 on one group fails the whole answer (no partial answer passes for complete)', async () => {
    server.fail(503, { group: 'sre@example.test' });
    await expect(groups.memberOf('lead@example.test', [OPS, SRE])).rejects.toBeInstanceOf(TransientError);
  });

  it('429 → retryable quota error; a later ask succeeds (failures are not cached)', async () => {
    server.fail(429, { group: 'oncall@example.test', times: 1 });
    await expect(groups.memberOf('alice@example.test', [ONCALL])).rejects.toMatchObject({
      code: 'GROUPS_QUOTA',
      retryable: true,
    });
    expect(await groups.memberOf('alice@example.test', [ONCALL])).toEqual([ONCALL]);
  });

  it('no answer within the request timeout → TransientError', async () => {
    server.fail('hang', { group: 'oncall@example.test' });
    const started = Date.now();
    await expect(groups.memberOf('alice@example.test', [ONCALL])).rejects.toBeInstanceOf(TransientError);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('401 (the controller’s own credentials) → RefusedError, not retried', async () => {
    server.fail(401);
    const failure = await groups.memberOf('alice@example.test', [ONCALL]).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(RefusedError);
    expect(isRetryable(failure)).toBe(false);
  });
});

describe('the stand-in speaks the REST API', () => {
  it('lookup and checkTransitiveMembership, with Google’s error shape', async () => {
    const lookup = await fetch(`${server.url}v1/groups:lookup?groupKey.id=oncall%40example.test`);
    const { name } = (await lookup.json()) as { name: string };
    expect(name).toMatch(/^groups\/\w+$/);
    const query = encodeURIComponent("member_key_id == 'alice@example.test'");
    const check = await fetch(`${server.url}v1/${name}/memberships:checkTransitiveMembership?query=${query}`);
    expect(await check.json()).toEqual({ hasMembership: true });
    const bad = await fetch(`${server.url}v1/${name}/memberships:checkTransitiveMembership?query=alice`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      error: { code: 400, status: 'INVALID_ARGUMENT', message: expect.stringMatching(/member_key_id/) },
    });
    const unknown = await fetch(
      `${server.url}v1/groups/nope/memberships:checkTransitiveMembership?query=${query}`,
    );
    expect(unknown.status).toBe(404);
  });

  it('a cycle of nested groups ends (no member found, no hang)', async () => {
    server.directory.set('a@example.test', ['b@example.test']);
    server.directory.set('b@example.test', ['a@example.test']);
    expect(await groups.memberOf('alice@example.test', ['group:a@example.test'])).toEqual([]);
  });
});

describe('wiring: the runtime gets the adapter only when the policy names groups', () => {
  const env = (policy: unknown, extra: Record<string, string> = {}) => ({
    GOOGLE_CLOUD_PROJECT: 'demo-project',
    ALLOWED_ROUTES: 'projects/demo-project/locations/global/httpRoutes/*',
    NETWORK_SERVICES_ENDPOINT: 'http://127.0.0.1:1/',
    CLOUD_IDENTITY_ENDPOINT: server.url,
    ...(policy === undefined ? {} : { AUTHZ_POLICY: JSON.stringify(policy) }),
    ...extra,
  });
  const quiet = createLogger({}, () => undefined);

  it('a policy naming groups: the configured endpoint answers', async () => {
    const policy = {
      grants: [{ principals: [ONCALL, 'user:lead@example.test'], routes: ['*'], commands: ['pause'] }],
    };
    const lookup = groupMembershipFor(loadConfig(env(policy)), quiet);
    expect(lookup).not.toBeNull();
    const membership = await lookup?.();
    expect(await membership?.memberOf('alice@example.test', [ONCALL])).toEqual([ONCALL]);
    expect(await lookup?.()).toBe(membership);
  });

  it('no group in the policy (or the default policy): no lookup at all', () => {
    const policy = {
      grants: [{ principals: ['user:lead@example.test'], routes: ['*'], commands: ['pause'] }],
    };
    expect(groupMembershipFor(loadConfig(env(policy)), quiet)).toBeNull();
    expect(groupMembershipFor(loadConfig(env(undefined)), quiet)).toBeNull();
  });

  it('CLOUD_IDENTITY_ENDPOINT is refused outside the local cloud', () => {
    const { NETWORK_SERVICES_ENDPOINT: _, ...production } = env(undefined);
    expect(() => loadConfig(production)).toThrow(/CLOUD_IDENTITY_ENDPOINT is only for the local cloud/);
  });
});
