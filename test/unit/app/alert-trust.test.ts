/**
 * Which incidents onAlert trusts: configured policies without a lookup, labelled policies of the
 * project's Monitoring mapped by Monitoring's labels, nothing else; and the policy list kept briefly,
 * read again on a miss at most once per interval.
 */
import { describe, expect, it } from 'vitest';
import { parseIncident } from '../../../functions/app/alert.ts';
import { AlertPolicyDirectory } from '../../../functions/app/alert-policy-directory.ts';
import { bounded, logTrust, trustIncident } from '../../../functions/app/alert-trust.ts';
import { loadConfig } from '../../../functions/app/config.ts';
import { createLogger } from '../../../functions/app/log.ts';
import { TransientError } from '../../../functions/errors.ts';
import type { AlertPolicies, AlertPolicySummary } from '../../../functions/ports/alert-policies.ts';

const PROJECT = 'shop';
const base = {
  GOOGLE_CLOUD_PROJECT: PROJECT,
  PROJECT_NUMBER: '1234',
  ALLOWED_ROUTES: `projects/${PROJECT}/locations/global/httpRoutes/*`,
};

class FakePolicies implements AlertPolicies {
  policies: AlertPolicySummary[] = [];
  reads = 0;
  failWith: Error | null = null;
  async list(): Promise<AlertPolicySummary[]> {
    this.reads += 1;
    if (this.failWith) throw this.failWith;
    return this.policies.map((p) => ({ ...p }));
  }
}

function policy(id: string, displayName: string, userLabels: Record<string, string>): AlertPolicySummary {
  return { name: `projects/${PROJECT}/alertPolicies/${id}`, displayName, enabled: true, userLabels };
}

function incident(policyName: string, labels: Record<string, string> | null, conditionName?: string) {
  return parseIncident({
    version: '1.2',
    incident: {
      incident_id: '0.1',
      state: 'open',
      policy_name: policyName,
      policy_user_labels: labels,
      ...(conditionName === undefined ? {} : { condition: { name: conditionName } }),
      resource: { type: 'cloud_run_revision', labels: { service_name: 'checkout-canary' } },
    },
  });
}

function setup(env: Record<string, string> = {}) {
  const source = new FakePolicies();
  const clock = { now: 1_000_000 };
  const slept: number[] = [];
  const policies = new AlertPolicyDirectory(async () => source, {
    clock: () => clock.now,
    sleep: async (ms) => {
      slept.push(ms);
      clock.now += ms;
    },
  });
  const deps = { config: loadConfig({ ...base, ...env }), policies };
  return { source, clock, slept, deps };
}

describe('trusting incidents', () => {
  it('accepts a configured policy by display name without any lookup, with the labels it sent', async () => {
    const t = setup({ KNOWN_ALERT_POLICIES: 'checkout 5xx, other' });
    t.source.failWith = new TransientError('down', { code: 'UNAVAILABLE', hint: 'later' });
    const trust = await trustIncident(t.deps, incident('checkout 5xx', { rollout_id: 'r1' }));
    expect(trust).toMatchObject({ kind: 'configured', incident: { policyLabels: { rollout_id: 'r1' } } });
    expect(t.source.reads).toBe(0);
  });

  it('accepts a configured policy by resource name (condition.name), the project by id or number', async () => {
    const t = setup({ KNOWN_ALERT_POLICIES: `projects/${PROJECT}/alertPolicies/77` });
    const byNumber = incident('anything', null, 'projects/1234/alertPolicies/77/conditions/3');
    expect((await trustIncident(t.deps, byNumber)).kind).toBe('configured');
    const other = incident('anything', null, 'projects/1234/alertPolicies/78/conditions/3');
    expect((await trustIncident(t.deps, { ...other })).kind).toBe('unknown');
    const otherProject = incident('anything', null, 'projects/evil/alertPolicies/77/conditions/3');
    expect((await trustIncident(t.deps, otherProject)).kind).toBe('unknown');
  });

  it('ignores an unknown policy, whatever labels the message claims', async () => {
    const t = setup();
    t.source.policies = [policy('1', 'checkout 5xx', { rollout_route: 'checkout' })];
    const forged = await trustIncident(t.deps, incident('forged', { rollout_id: 'victim' }));
    expect(forged).toEqual({
      kind: 'unknown',
      why: 'no such policy in KNOWN_ALERT_POLICIES or in the project’s Cloud Monitoring',
    });
  });

  it('maps a labelled Monitoring policy by the labels Monitoring holds, not those the message claims', async () => {
    const t = setup();
    t.source.policies = [policy('1', 'checkout 5xx', { rollout_route: 'checkout', team: 'a' })];
    const trust = await trustIncident(t.deps, incident('checkout 5xx', { rollout_id: 'victim' }));
    expect(trust).toMatchObject({
      kind: 'labelled',
      policy: `projects/${PROJECT}/alertPolicies/1`,
      incident: { policyLabels: { rollout_route: 'checkout', team: 'a' } },
    });
    const lines: string[] = [];
    logTrust(
      createLogger({}, (l) => lines.push(l)),
      incident('checkout 5xx', { rollout_id: 'victim' }),
      trust,
    );
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      severity: 'WARNING',
      monitoringLabels: { rollout_route: 'checkout' },
      claimedLabels: { rollout_id: 'victim' },
    });
  });

  it('refuses a Monitoring policy without rollout labels, and everything when labelled policies are off', async () => {
    const t = setup();
    t.source.policies = [policy('1', 'cpu', {})];
    expect(await trustIncident(t.deps, incident('cpu', { rollout_id: 'x' }))).toMatchObject({
      kind: 'unknown',
      why: expect.stringContaining('no rollout_* user labels'),
    });
    const off = setup({ ALERT_POLICIES_BY_LABEL: 'false' });
    off.source.policies = [policy('1', 'checkout 5xx', { rollout_id: 'r' })];
    expect((await trustIncident(off.deps, incident('checkout 5xx', null))).kind).toBe('unknown');
    expect(off.source.reads).toBe(0);
  });

  it('needs the id when two labelled policies share a display name, and the id must agree with the name', async () => {
    const t = setup();
    t.source.policies = [
      policy('1', 'canary 5xx', { rollout_route: 'a' }),
      policy('2', 'canary 5xx', { rollout_route: 'b' }),
    ];
    expect((await trustIncident(t.deps, incident('canary 5xx', null))).kind).toBe('unknown');
    const byId = incident('canary 5xx', null, `projects/${PROJECT}/alertPolicies/2/conditions/1`);
    expect(await trustIncident(t.deps, byId)).toMatchObject({
      kind: 'labelled',
      incident: { policyLabels: { rollout_route: 'b' } },
    });
    const mismatch = incident('other name', null, `projects/${PROJECT}/alertPolicies/2/conditions/1`);
    expect((await trustIncident(t.deps, mismatch)).kind).toBe('unknown');
  });

  it('logs an ignored incident once, as a bounded WARNING', () => {
    const lines: string[] = [];
    const claimed = incident(`x${'\u0007'.repeat(10)}${'p'.repeat(100_000)}`, null);
    logTrust(
      createLogger({}, (l) => lines.push(l)),
      claimed,
      { kind: 'unknown', why: 'no such policy' },
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]?.length).toBeLessThan(1_000);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ severity: 'WARNING' });
    expect(bounded('a\nb')).toBe('a\\nb');
  });

  it('a lookup that fails transiently is thrown as retryable', async () => {
    const t = setup();
    t.source.failWith = new TransientError('unavailable', { code: 'UNAVAILABLE', hint: 'later' });
    await expect(trustIncident(t.deps, incident('checkout 5xx', null))).rejects.toMatchObject({
      retryable: true,
    });
  });
});

describe('the alert policy list', () => {
  it('answers hits from the list for 60 s, then reads again', async () => {
    const t = setup();
    t.source.policies = [policy('1', 'a', { rollout_id: 'r' })];
    const named = (n: string) => (p: AlertPolicySummary) => p.displayName === n;
    expect(await t.deps.policies.find(named('a'))).toHaveLength(1);
    t.clock.now += 59_000;
    expect(await t.deps.policies.find(named('a'))).toHaveLength(1);
    expect(t.source.reads).toBe(1);
    t.clock.now += 2_000;
    await t.deps.policies.find(named('a'));
    expect(t.source.reads).toBe(2);
  });

  it('reads again on a miss, at most once every 10 s, and concurrent misses share one read', async () => {
    const t = setup();
    const named = (n: string) => (p: AlertPolicySummary) => p.displayName === n;
    expect(await t.deps.policies.find(named('new'))).toEqual([]);
    expect(t.source.reads).toBe(1);
    t.source.policies = [policy('9', 'new', { rollout_id: 'r' })];
    t.clock.now += 3_000;
    const misses = await Promise.all([1, 2, 3].map(() => t.deps.policies.find(named('new'))));
    // The policy created meanwhile is found: the miss waited for the next allowed read.
    expect(misses.map((m) => m.length)).toEqual([1, 1, 1]);
    expect(t.source.reads).toBe(2);
    expect(t.slept).toEqual([7_000]);
  });
});
