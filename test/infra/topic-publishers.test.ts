/**
 * Who may publish to which topic (docs/security.md#who-may-publish): one authoritative
 * roles/pubsub.publisher binding per controller topic holding exactly its publishers — the
 * functions whose manifest `publishes` names it, CI on rollout-requests, operators on
 * rollout-control, Monitoring's notification agent on rollout-alerts, Cloud Scheduler's agent on
 * rollout-tick — and no other way to publish (no project-level publisher role, no role or custom
 * role that carries pubsub.topics.publish).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ENTRY_POINTS, TOPICS } from '../../functions/manifest.ts';
import {
  type Block,
  blocks,
  evaluateLocals,
  hcl,
  INFRA,
  loadModule,
  type Module,
  resource,
  strings,
  variable,
} from './terraform.ts';

let root: Module;
let publishers: Record<string, { functions: string[]; outside: string[] }>;

beforeAll(async () => {
  root = await loadModule(INFRA);
  publishers = await evaluateLocals('local.topic_publishers');
});

const AGENT = (name: string) =>
  `serviceAccount:service-${hcl('data.google_project.this.number')}@gcp-sa-${name}.iam.gserviceaccount.com`;

/** Who outside the controller publishes where, and as which members. */
const OUTSIDE: Record<string, { topic: string; members: string | string[] }> = {
  ci: { topic: TOPICS.requests, members: hcl('var.ci_principals') },
  operators: { topic: TOPICS.control, members: hcl('var.operator_principals') },
  monitoring_notification_agent: { topic: TOPICS.alerts, members: [AGENT('monitoring-notification')] },
  cloud_scheduler_agent: { topic: TOPICS.tick, members: [AGENT('cloudscheduler')] },
};

const functionsPublishing = (topic: string) =>
  ENTRY_POINTS.filter((ep) => ep.publishes.includes(topic))
    .map((ep) => ep.name)
    .sort();

describe('topic publishers', () => {
  it('each topic has exactly its publishers: the functions that publish to it and one outside kind at most', () => {
    const expected = Object.fromEntries(
      Object.values(TOPICS).map((topic) => [
        topic,
        {
          functions: functionsPublishing(topic),
          outside: Object.entries(OUTSIDE)
            .filter(([, o]) => o.topic === topic)
            .map(([kind]) => kind),
        },
      ]),
    );
    expect(publishers).toEqual(expected);
    // Spelled out, as the issue states it.
    expect(publishers[TOPICS.requests]).toEqual({ functions: [], outside: ['ci'] });
    expect(publishers[TOPICS.control]).toEqual({ functions: [], outside: ['operators'] });
    expect(publishers[TOPICS.alerts]).toEqual({ functions: [], outside: ['monitoring_notification_agent'] });
    expect(publishers[TOPICS.tick]).toEqual({ functions: [], outside: ['cloud_scheduler_agent'] });
    expect(publishers[TOPICS.advance]).toEqual({ functions: ['tick'], outside: [] });
    expect(publishers[TOPICS.events]?.outside).toEqual([]);
    // Every function: each commits changes, and the tick re-sends events lost before publishing (the outbox).
    expect(publishers[TOPICS.events]?.functions).toEqual(ENTRY_POINTS.map((ep) => ep.name).sort());
  });

  it('the outside kinds are these members, and nobody else', () => {
    const iamLocals = root.locals['outside_publisher_members'] as Block;
    const expected = Object.fromEntries(Object.entries(OUTSIDE).map(([kind, o]) => [kind, o.members]));
    expect(iamLocals).toEqual(expected);
  });

  it('one authoritative binding per topic grants exactly those members', () => {
    const binding = resource(root, 'google_pubsub_topic_iam_binding.publishers');
    expect(binding['for_each']).toBe(hcl('local.topic_publishers'));
    expect(binding['topic']).toBe(hcl('google_pubsub_topic.topic[each.key].name'));
    expect(binding['role']).toBe('roles/pubsub.publisher');
    expect(String(binding['members']).replace(/\s+/g, '')).toBe(
      hcl(
        'concat([fornameineach.value.functions:google_service_account.fn[name].member],flatten([forkindineach.value.outside:local.outside_publisher_members[kind]]),)',
      ),
    );
  });

  it('no principal can publish to a topic it does not need', () => {
    for (const ep of ENTRY_POINTS) {
      const topics = Object.entries(publishers)
        .filter(([, p]) => p.functions.includes(ep.name))
        .map(([topic]) => topic);
      expect(topics.sort(), ep.name).toEqual([...ep.publishes].sort());
    }
    for (const [kind, o] of Object.entries(OUTSIDE)) {
      const topics = Object.entries(publishers).filter(([, p]) => p.outside.includes(kind));
      expect(
        topics.map(([topic]) => topic),
        kind,
      ).toEqual([o.topic]);
    }
  });

  it('no other grant carries a publish permission: nothing project-level, no Pub/Sub editor or admin', () => {
    const iam = [...root.resources.entries()].filter(([a]) => /_iam_(member|binding|policy)\./.test(a));
    const publisherGrants = iam.filter(([, b]) =>
      /roles\/pubsub\.(publisher|editor|admin)/.test(String(b['role'])),
    );
    expect(publisherGrants.map(([a]) => a).sort()).toEqual([
      'google_pubsub_topic_iam_binding.publishers',
      // Pub/Sub forwards dead letters as its own service agent (not a controller topic).
      'google_pubsub_topic_iam_member.pubsub_agent_dead_letter',
    ]);
    for (const [address, block] of iam) {
      if (address.startsWith('google_project_iam_')) {
        expect(String(block['role']), address).not.toMatch(/pubsub/);
      }
    }
    for (const doc of root.parsed) {
      for (const [path, text] of strings(doc)) {
        expect(text, path).not.toMatch(/pubsub\.topics\.publish|roles\/pubsub\.(editor|admin)/);
      }
    }
  });
});

describe('ci_principals and operator_principals', () => {
  const cases: [string, boolean][] = [
    ['user:dev@example.com', true],
    ['group:sre@example.com', true],
    ['serviceAccount:ci@p.iam.gserviceaccount.com', true],
    ['principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/ci/subject/x', true],
    ['principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/ci/*', true],
    ['allUsers', false],
    ['allAuthenticatedUsers', false],
    ['domain:example.com', false],
    ['ci@p.iam.gserviceaccount.com', false],
    ['user:', false],
  ];
  for (const name of ['ci_principals', 'operator_principals']) {
    it(`${name}: a list of IAM members, each user:, group:, serviceAccount:, principal: or principalSet:`, async () => {
      const v = variable(root, name);
      expect(v['type']).toBe(hcl('list(string)'));
      const condition = String(blocks(v, 'validation')[0]?.['condition']).slice(2, -1);
      for (const [member, ok] of cases) {
        const expression = condition.replaceAll(`var.${name}`, JSON.stringify([member]));
        expect(await evaluateLocals<boolean>(expression), member).toBe(ok);
      }
    });
  }
});

describe('the alert policies the controller trusts', () => {
  it('known_alert_policies and alert_policies_by_label reach every function', () => {
    const env = root.locals['common_environment'] as Block;
    expect(env['KNOWN_ALERT_POLICIES']).toBe(hcl('join(",", var.known_alert_policies)'));
    expect(env['ALERT_POLICIES_BY_LABEL']).toBe(hcl('tostring(var.alert_policies_by_label)'));
    expect(variable(root, 'known_alert_policies')['type']).toBe(hcl('list(string)'));
  });
});
