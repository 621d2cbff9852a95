/**
 * Least privilege in infra/: one identity per function (and per push subscription, and for the
 * workflow), grants derived from what functions/manifest.ts says each function uses, exactly the
 * custom-role permissions the adapters need, no primitive roles and no public principals.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENTRY_POINTS } from '../../functions/manifest.ts';
import {
  type Block,
  blocks,
  EXAMPLE_MESH,
  evaluateLocals,
  hcl,
  INFRA,
  type Json,
  loadModule,
  type Module,
  nested,
  REPO,
  resource,
  str,
  strings,
  variable,
} from './terraform.ts';

let root: Module;
let mesh: Module;

beforeAll(async () => {
  [root, mesh] = await Promise.all([loadModule(INFRA), loadModule(EXAMPLE_MESH)]);
});

const usersOf = (api: string) =>
  ENTRY_POINTS.filter((ep) => (ep.uses as readonly string[]).includes(api))
    .map((ep) => ep.name)
    .sort();

/** Every IAM grant infra/ makes, and what it must be. A new grant has to be added here. */
const EXPECTED_GRANTS: Record<string, { role: string; member: string; on?: string; forEach?: string }> = {
  'google_project_iam_member.firestore': {
    role: 'roles/datastore.user',
    member: hcl('google_service_account.fn[each.key].member'),
    forEach: hcl('local.firestore_users'),
  },
  'google_project_iam_member.route_editor': {
    role: hcl('google_project_iam_custom_role.route_editor.name'),
    member: hcl('google_service_account.fn[each.key].member'),
    forEach: hcl('local.networkservices_users'),
  },
  'google_project_iam_member.metrics_reader': {
    role: hcl('google_project_iam_custom_role.metrics_reader.name'),
    member: hcl('google_service_account.fn[each.key].member'),
    forEach: hcl('local.monitoring_users'),
  },
  'google_project_iam_member.workflow_invoker': {
    role: 'roles/workflows.invoker',
    member: hcl('google_service_account.fn[each.key].member'),
    forEach: hcl('local.workflowexecutions_users'),
  },
  'google_cloud_run_v2_service_iam_member.push_invoker': {
    role: 'roles/run.invoker',
    member: hcl('google_service_account.push[each.key].member'),
    on: hcl('google_cloudfunctions2_function.fn[each.key].service_config[0].service'),
    forEach: hcl('local.pubsub_triggered'),
  },
  'google_cloud_run_v2_service_iam_member.workflow_calls_advance': {
    role: 'roles/run.invoker',
    member: hcl('google_service_account.workflow.member'),
    on: hcl('google_cloudfunctions2_function.fn[local.advance_function].service_config[0].service'),
  },
  'google_cloud_run_v2_service_iam_member.operators': {
    role: 'roles/run.invoker',
    member: hcl('each.value'),
    on: hcl('google_cloudfunctions2_function.fn["controlHttp"].service_config[0].service'),
    forEach: hcl('toset(var.operator_members)'),
  },
  'google_project_iam_member.workflow_logs': {
    role: 'roles/logging.logWriter',
    member: hcl('google_service_account.workflow.member'),
  },
  'google_project_iam_member.build': {
    role: hcl('each.value'),
    member: hcl('google_service_account.build.member'),
  },
  'google_pubsub_topic_iam_member.pubsub_agent_dead_letter': {
    role: 'roles/pubsub.publisher',
    member: hcl('google_project_service_identity.pubsub.member'),
    on: hcl('google_pubsub_topic.dead_letter.name'),
  },
  'google_pubsub_subscription_iam_member.pubsub_agent_acks': {
    role: 'roles/pubsub.subscriber',
    member: hcl('google_project_service_identity.pubsub.member'),
    on: hcl('google_pubsub_subscription.push[each.key].name'),
    forEach: hcl('local.pubsub_triggered'),
  },
  'google_service_account_iam_member.pubsub_agent_tokens': {
    role: 'roles/iam.serviceAccountTokenCreator',
    member: hcl('google_project_service_identity.pubsub.member'),
    on: hcl('google_service_account.push[each.key].name'),
    forEach: hcl('local.pubsub_triggered'),
  },
  'google_service_account_iam_member.hooks_token_creator': {
    role: 'roles/iam.serviceAccountOpenIdTokenCreator',
    member: hcl('google_service_account.fn[each.key].member'),
    on: hcl('google_service_account.hooks.name'),
    forEach: hcl('local.hook_callers'),
  },
};

/**
 * The only authoritative grants: roles/pubsub.publisher on each controller topic, so nobody can be
 * added as a publisher outside Terraform unnoticed (test/infra/topic-publishers.test.ts).
 */
const AUTHORITATIVE = ['google_pubsub_topic_iam_binding.publishers'];

const IAM_TYPE = /^google_\w+_iam_(member|binding|policy|audit_config)$/;

function iamResources(m: Module): [string, Block][] {
  return [...m.resources.entries()].filter(([address]) => IAM_TYPE.test(address.split('.')[0] ?? ''));
}

function target(block: Block): string | undefined {
  for (const key of ['topic', 'subscription', 'name', 'service_account_id']) {
    const value = block[key];
    if (typeof value === 'string') return value;
  }
  return undefined;
}

describe('every grant', () => {
  it('is one of the expected grants, non-authoritative except the topic publishers', () => {
    const found = iamResources(root);
    expect(found.map(([address]) => address).sort()).toEqual(
      [...Object.keys(EXPECTED_GRANTS), ...AUTHORITATIVE].sort(),
    );
    for (const [address, block] of found) {
      if (AUTHORITATIVE.includes(address)) continue;
      const expected = EXPECTED_GRANTS[address];
      // *_iam_member only: authoritative bindings/policies would remove grants made elsewhere.
      expect(address.split('.')[0], address).toMatch(/_iam_member$/);
      expect(block['role'], address).toBe(expected?.role);
      expect(block['member'], address).toBe(expected?.member);
      if (expected?.on !== undefined) expect(target(block), address).toBe(expected.on);
      // The build grant iterates over its roles (checked below); every other for_each is a set of functions.
      if (address !== 'google_project_iam_member.build')
        expect(block['for_each'], address).toBe(expected?.forEach);
    }
  });

  it('build identity gets exactly what Google documents for it: Logs Writer, Storage Object Admin, Artifact Registry Writer', () => {
    const build = resource(root, 'google_project_iam_member.build');
    expect(String(build['for_each']).replace(/#.*$/gm, '').replace(/\s+/g, '')).toBe(
      hcl('toset(["roles/logging.logWriter","roles/storage.objectAdmin","roles/artifactregistry.writer",])'),
    );
    const fn = resource(root, 'google_cloudfunctions2_function.fn');
    expect(nested(fn, 'build_config')['service_account']).toBe(hcl('google_service_account.build.id'));
  });

  it('docs/deploy.md lists the same build roles', async () => {
    const doc = await readFile(join(REPO, 'docs', 'deploy.md'), 'utf8');
    const row = doc.split('\n').find((line) => line.startsWith('| `canary-build` |'));
    const granted = String(row?.split('|')[2]);
    expect([...granted.matchAll(/`(roles\/[\w.]+)`/g)].map((m) => m[1]).sort()).toEqual([
      'roles/artifactregistry.writer',
      'roles/logging.logWriter',
      'roles/storage.objectAdmin',
    ]);
  });

  it('no primitive role (owner, editor, viewer) anywhere in infra/', () => {
    for (const m of [root, mesh]) {
      for (const doc of m.parsed) {
        for (const [path, text] of strings(doc)) {
          expect(text, `${m.dir} ${path}`).not.toMatch(/roles\/(owner|editor|viewer)\b/);
        }
      }
    }
  });

  it('no public principal (allUsers, allAuthenticatedUsers) anywhere in infra/', () => {
    for (const m of [root, mesh]) {
      for (const doc of m.parsed) {
        for (const [path, text] of strings(doc)) {
          expect(text, `${m.dir} ${path}`).not.toMatch(/all(Authenticated)?Users/);
        }
      }
      for (const [address, block] of [...m.resources.entries()]) {
        if (address.startsWith('google_cloud_run_v2_service.')) {
          expect(block['invoker_iam_disabled'], address).toBeUndefined();
        }
      }
    }
  });

  it('operator_members accepts only named principals', () => {
    const validation = blocks(variable(root, 'operator_members'), 'validation')[0];
    expect(validation?.['condition']).toBe(
      hcl(
        'alltrue([for m in var.operator_members : can(regex("^(user|group|serviceAccount|domain|principal|principalSet):.+", m))])',
      ),
    );
  });
});

describe('identities', () => {
  it('each function runs as its own service account', async () => {
    const sa = resource(root, 'google_service_account.fn');
    expect(sa['for_each']).toBe(hcl('local.functions'));
    expect(sa['account_id']).toBe(`${hcl('var.name_prefix')}-fn-${hcl('each.value.short')}`);
    const fn = resource(root, 'google_cloudfunctions2_function.fn');
    expect(nested(fn, 'service_config')['service_account_email']).toBe(
      hcl('google_service_account.fn[each.key].email'),
    );
    const functions = await evaluateLocals<Record<string, { short: string }>>('local.functions');
    const shorts = Object.values(functions).map((f) => f.short);
    expect(new Set(shorts).size).toBe(shorts.length);
  });

  it('every service account id is unique and valid, even with the longest allowed prefix', async () => {
    const condition = blocks(variable(root, 'name_prefix'), 'validation')[0]?.['condition'];
    expect(condition).toBe(hcl('can(regex("^[a-z][a-z0-9]{1,10}$", var.name_prefix))'));
    const functions = await evaluateLocals<Record<string, { short: string }>>('local.functions');
    const pushed = await evaluateLocals<Record<string, { short: string }>>('local.pubsub_triggered');
    const meshName = String(mesh.variables.get('name')?.['default']);
    for (const prefix of [String(root.variables.get('name_prefix')?.['default']), 'a'.repeat(11)]) {
      const expand = (template: string, short = '') =>
        template
          .replaceAll(hcl('var.name_prefix'), prefix)
          .replaceAll(hcl('each.value.short'), short)
          .replaceAll(hcl('var.name'), meshName);
      const ids: string[] = [];
      for (const m of [root, mesh]) {
        for (const [address, block] of m.resources) {
          if (!address.startsWith('google_service_account.')) continue;
          const template = str(block, 'account_id');
          const over =
            block['for_each'] === hcl('local.functions')
              ? functions
              : block['for_each'] === hcl('local.pubsub_triggered')
                ? pushed
                : null;
          if (over === null) ids.push(expand(template));
          else for (const f of Object.values(over)) ids.push(expand(template, f.short));
        }
      }
      for (const id of ids) expect(id, id).toMatch(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/);
      expect(new Set(ids).size, ids.join(' ')).toBe(ids.length);
    }
  });

  it('each push subscription has its own identity, which may invoke only its function', async () => {
    const push = resource(root, 'google_service_account.push');
    expect(push['for_each']).toBe(hcl('local.pubsub_triggered'));
    expect(EXPECTED_GRANTS['google_cloud_run_v2_service_iam_member.push_invoker']?.on).toContain(
      'fn[each.key]',
    );
    const grantsToPush = iamResources(root).filter(([, b]) =>
      String(b['member']).includes('google_service_account.push'),
    );
    expect(grantsToPush.map(([a]) => a)).toEqual(['google_cloud_run_v2_service_iam_member.push_invoker']);
  });

  it('the workflow may invoke only the advance function (and write its logs)', async () => {
    const grants = iamResources(root).filter(
      ([, b]) => b['member'] === hcl('google_service_account.workflow.member'),
    );
    expect(grants.map(([a, b]) => `${a} ${String(b['role'])}`).sort()).toEqual([
      'google_cloud_run_v2_service_iam_member.workflow_calls_advance roles/run.invoker',
      'google_project_iam_member.workflow_logs roles/logging.logWriter',
    ]);
    const advance = await evaluateLocals<string>('local.advance_function');
    expect(advance).toBe('advanceRollout');
    expect(ENTRY_POINTS.find((ep) => ep.name === advance)?.trigger.kind).toBe('http');
  });
});

describe('grants follow functions/manifest.ts', () => {
  const cases: [string, string][] = [
    ['firestore', 'local.firestore_users'],
    ['networkservices', 'local.networkservices_users'],
    ['monitoring', 'local.monitoring_users'],
    ['workflowexecutions', 'local.workflowexecutions_users'],
  ];
  for (const [api, local] of cases) {
    it(`${api}: only the functions that use it`, async () => {
      const users = await evaluateLocals<Record<string, Json>>(local);
      expect(Object.keys(users).sort()).toEqual(usersOf(api));
    });
  }

  it('pubsub.publisher only on the topics each function publishes to', async () => {
    const publishers =
      await evaluateLocals<Record<string, { functions: string[] }>>('local.topic_publishers');
    const granted = Object.entries(publishers).flatMap(([topic, p]) =>
      p.functions.map((f) => `${f}/${topic}`),
    );
    const expected = ENTRY_POINTS.flatMap((ep) => ep.publishes.map((topic) => `${ep.name}/${topic}`));
    expect(granted.sort()).toEqual(expected.sort());
  });
});

describe('the tick and advanceDue', () => {
  it('only the tick may publish to rollout-advance; it neither changes routes nor reads metrics', async () => {
    const publishers =
      await evaluateLocals<Record<string, { functions: string[]; outside: string[] }>>(
        'local.topic_publishers',
      );
    expect(publishers['rollout-advance']).toEqual({ functions: ['tick'], outside: [] });
    // …and to rollout-events: it re-sends lifecycle events lost between commit and publish (the outbox).
    const tickPublishes = Object.entries(publishers).filter(([, p]) => p.functions.includes('tick'));
    expect(tickPublishes.map(([topic]) => topic).sort()).toEqual(['rollout-advance', 'rollout-events']);
    for (const local of ['local.networkservices_users', 'local.monitoring_users']) {
      const users = await evaluateLocals<Record<string, Json>>(local);
      expect(Object.keys(users), local).toContain('advanceDue');
      expect(Object.keys(users), local).not.toContain('tick');
    }
  });
});

describe('hooks identity', () => {
  it('the hook-calling functions may mint ID tokens as the rollout-hooks account only', async () => {
    const sa = resource(root, 'google_service_account.hooks');
    expect(sa['account_id']).toBe(`${hcl('var.name_prefix')}-rollout-hooks`);
    const grant = resource(root, 'google_service_account_iam_member.hooks_token_creator');
    expect(grant['service_account_id']).toBe(hcl('google_service_account.hooks.name'));
    expect(grant['role']).toBe('roles/iam.serviceAccountOpenIdTokenCreator');
    // Every function that carries out rollout decisions calls hooks; the tick does not.
    const callers = await evaluateLocals<Record<string, Json>>('local.hook_callers');
    expect(Object.keys(callers).sort()).toEqual(usersOf('networkservices'));
    expect(Object.keys(callers)).not.toContain('tick');
  });

  it('no token-creator role is granted on the project, or on any other service account', () => {
    for (const [address, block] of iamResources(root)) {
      const role = String(block['role']);
      if (!/serviceAccount(OpenId)?TokenCreator/.test(role)) continue;
      expect(address, address).toMatch(/^google_service_account_iam_member\./);
      if (role.includes('OpenId'))
        expect(target(block), address).toBe(hcl('google_service_account.hooks.name'));
    }
    const projectGrants = iamResources(root).filter(([a]) => a.startsWith('google_project_iam_member.'));
    for (const [address, block] of projectGrants) {
      expect(String(block['role']), address).not.toMatch(
        /TokenCreator|serviceAccountUser|iam\.serviceAccount/,
      );
    }
  });

  it('the hook-calling functions are told the account (HOOKS_SERVICE_ACCOUNT); its email is an output', () => {
    const fn = resource(root, 'google_cloudfunctions2_function.fn');
    const env = String(nested(fn, 'service_config')['environment_variables']).replace(/\s+/g, '');
    expect(env).toContain(
      'contains(keys(local.hook_callers),each.key)?{HOOKS_SERVICE_ACCOUNT=google_service_account.hooks.email}:{}',
    );
    expect(root.outputs.get('hooks_service_account')?.['value']).toBe(
      hcl('google_service_account.hooks.email'),
    );
  });
});

describe('custom roles', () => {
  it('the route editor role has exactly the Network Services permissions the adapters use, for the four route kinds', async () => {
    const role = resource(root, 'google_project_iam_custom_role.route_editor');
    expect(role['permissions']).toBe(hcl('local.route_editor_permissions'));
    const permissions = await evaluateLocals<string[]>('local.route_editor_permissions');
    expect([...permissions].sort()).toEqual([
      'networkservices.grpcRoutes.get',
      'networkservices.grpcRoutes.list',
      'networkservices.grpcRoutes.update',
      'networkservices.httpRoutes.get',
      'networkservices.httpRoutes.list',
      'networkservices.httpRoutes.update',
      'networkservices.operations.cancel',
      'networkservices.operations.get',
      'networkservices.operations.list',
      'networkservices.tcpRoutes.get',
      'networkservices.tcpRoutes.list',
      'networkservices.tcpRoutes.update',
      'networkservices.tlsRoutes.get',
      'networkservices.tlsRoutes.list',
      'networkservices.tlsRoutes.update',
    ]);
  });

  it('Monitoring access is read-only: time series and alert policies (onAlert trusts labelled policies)', async () => {
    const role = resource(root, 'google_project_iam_custom_role.metrics_reader');
    expect(role['permissions']).toBe(hcl('local.metrics_reader_permissions'));
    expect(await evaluateLocals<string[]>('local.metrics_reader_permissions')).toEqual([
      'monitoring.alertPolicies.get',
      'monitoring.alertPolicies.list',
      'monitoring.timeSeries.list',
    ]);
  });
});

describe('example mesh', () => {
  it('grants only trafficdirector.client to the client and run.invoker on the two backends', () => {
    const grants = iamResources(mesh).map(([a, b]) => [a, b['role'], b['member']]);
    expect(grants.sort()).toEqual([
      [
        'google_cloud_run_v2_service_iam_member.client_invokes',
        'roles/run.invoker',
        hcl('google_service_account.client.member'),
      ],
      [
        'google_project_iam_member.client_mesh',
        'roles/trafficdirector.client',
        hcl('google_service_account.client.member'),
      ],
    ]);
  });
});
