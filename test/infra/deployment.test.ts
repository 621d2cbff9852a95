/**
 * infra/ deploys what the code needs: checked against functions/manifest.ts (entry points,
 * triggers, topics), docs/state.md (Firestore index and TTL), docs/configuration.md (environment)
 * and the repository's workflow file.
 */
import { access, readFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENTRY_POINTS, TOPICS } from '../../functions/manifest.ts';
import { FUNCTIONS_DIST } from '../../scripts/build.ts';
import {
  type Block,
  blocks,
  evaluateLocals,
  hasNested,
  hcl,
  INFRA,
  loadModule,
  type Module,
  nested,
  REPO,
  resource,
  resourcesOfType,
  str,
  terraform,
} from './terraform.ts';

interface FunctionData {
  readonly short: string;
  readonly trigger: string;
  readonly publishes: readonly string[];
  readonly uses: readonly string[];
}

let root: Module;
let functions: Record<string, FunctionData>;
let topics: Record<string, string>;
let deadLetterTopic: string;
let pubsubTriggered: Record<string, FunctionData>;
let httpTriggered: Record<string, FunctionData>;

const topicEntries = ENTRY_POINTS.flatMap((ep) =>
  ep.trigger.kind === 'topic' ? [{ name: ep.name, topic: ep.trigger.topic }] : [],
);
const httpEntries = ENTRY_POINTS.filter((ep) => ep.trigger.kind === 'http').map((ep) => ep.name);

beforeAll(async () => {
  root = await loadModule(INFRA);
  [functions, topics, deadLetterTopic, pubsubTriggered, httpTriggered] = await Promise.all([
    evaluateLocals<Record<string, FunctionData>>('local.functions'),
    evaluateLocals<Record<string, string>>('local.topics'),
    evaluateLocals<string>('local.dead_letter_topic'),
    evaluateLocals<Record<string, FunctionData>>('local.pubsub_triggered'),
    evaluateLocals<Record<string, FunctionData>>('local.http_triggered'),
  ]);
});

describe('terraform fmt', () => {
  it('infra/ is formatted (terraform fmt -check -recursive)', async () => {
    const result = await terraform(['fmt', '-check', '-recursive', '-diff', INFRA], { cwd: REPO });
    expect(result.stdout, `terraform fmt would change:\n${result.stdout}`).toBe('');
    expect(result.code).toBe(0);
  });
});

describe('functions/manifest.ts is what infra/ deploys', () => {
  it('local.functions lists every entry point with its trigger, topics and APIs', () => {
    expect(Object.keys(functions).sort()).toEqual(ENTRY_POINTS.map((ep) => ep.name).sort());
    for (const ep of ENTRY_POINTS) {
      const f = functions[ep.name];
      expect(f, ep.name).toBeDefined();
      expect(f?.trigger, `${ep.name} trigger`).toBe(ep.trigger.kind === 'topic' ? ep.trigger.topic : 'http');
      expect([...(f?.publishes ?? [])].sort(), `${ep.name} publishes`).toEqual([...ep.publishes].sort());
      expect([...(f?.uses ?? [])].sort(), `${ep.name} uses`).toEqual([...ep.uses].sort());
      expect(f?.short, `${ep.name} short name`).toBe(basename(ep.source, '.ts'));
    }
  });

  it('deploys one Cloud Run function (2nd gen, nodejs22) per entry point, from its own bundle', () => {
    const fn = resource(root, 'google_cloudfunctions2_function.fn');
    expect(fn['for_each']).toBe(hcl('local.functions'));
    const build = nested(fn, 'build_config');
    expect(build['runtime']).toBe('nodejs22');
    expect(build['entry_point']).toBe(hcl('each.key'));
    expect(nested(build, 'source', 'storage_source')['object']).toBe(
      hcl('google_storage_bucket_object.source[each.key].name'),
    );

    const object = resource(root, 'google_storage_bucket_object.source');
    expect(object['for_each']).toBe(hcl('local.functions'));
    expect(object['source']).toBe(hcl('data.archive_file.source[each.key].output_path'));

    const archive = root.data.get('archive_file.source');
    expect(archive?.['for_each']).toBe(hcl('local.functions'));
    expect(archive?.['source_dir']).toBe(`${hcl('path.module')}/../dist/functions/${hcl('each.key')}`);
    // …which is where scripts/build.ts writes each bundle.
    expect(relative(REPO, FUNCTIONS_DIST)).toBe(join('dist', 'functions'));
  });

  it('names each function after its entry module and gives it its own service account', () => {
    const fn = resource(root, 'google_cloudfunctions2_function.fn');
    expect(nested(fn, 'service_config')['service_account_email']).toBe(
      hcl('google_service_account.fn[each.key].email'),
    );
    expect(str(fn, 'name')).toBe(hcl('local.function_names[each.key]'));
    expect(root.locals['function_names']).toBe(
      hcl(`{ for name, f in local.functions : name => "${hcl('var.name_prefix')}-${hcl('f.short')}" }`),
    );
  });

  it('HTTP entry points are HTTP functions and nothing else is', () => {
    expect(Object.keys(httpTriggered).sort()).toEqual([...httpEntries].sort());
  });
});

describe('topics and triggers', () => {
  it('creates every topic the code publishes to or is triggered by', () => {
    expect(Object.values(topics).sort()).toEqual(Object.values(TOPICS).sort());
    const declared = new Set(Object.values(topics));
    for (const ep of ENTRY_POINTS) {
      if (ep.trigger.kind === 'topic') expect(declared.has(ep.trigger.topic), ep.trigger.topic).toBe(true);
      for (const topic of ep.publishes) expect(declared.has(topic), topic).toBe(true);
    }
    const topic = resource(root, 'google_pubsub_topic.topic');
    expect(topic['for_each']).toBe(hcl('toset(values(local.topics))'));
    expect(topic['name']).toBe(hcl('each.value'));
  });

  it('creates no Eventarc trigger and no function event_trigger (they cannot dead-letter)', () => {
    expect(resourcesOfType(root, 'google_eventarc_trigger')).toEqual([]);
    for (const [address, fn] of resourcesOfType(root, 'google_cloudfunctions2_function')) {
      expect(hasNested(fn, 'event_trigger'), address).toBe(false);
    }
  });

  it('feeds every topic-triggered entry point by its own push subscription on its topic', () => {
    expect(Object.keys(pubsubTriggered).sort()).toEqual(topicEntries.map((e) => e.name).sort());
    for (const { name, topic } of topicEntries) expect(pubsubTriggered[name]?.trigger).toBe(topic);

    const sub = resource(root, 'google_pubsub_subscription.push');
    expect(sub['for_each']).toBe(hcl('local.pubsub_triggered'));
    expect(sub['topic']).toBe(hcl('google_pubsub_topic.topic[each.value.trigger].id'));
    const push = nested(sub, 'push_config');
    expect(push['push_endpoint']).toBe(
      `${hcl('google_cloudfunctions2_function.fn[each.key].service_config[0].uri')}/projects/${hcl('var.project_id')}/topics/${hcl('each.value.trigger')}`,
    );
    const oidc = nested(push, 'oidc_token');
    expect(oidc['service_account_email']).toBe(hcl('google_service_account.push[each.key].email'));
    expect(oidc['audience']).toBe(hcl('google_cloudfunctions2_function.fn[each.key].service_config[0].uri'));
  });

  it('every push subscription retries with backoff and has a dead-letter topic', () => {
    const pushes = resourcesOfType(root, 'google_pubsub_subscription').filter(([, s]) =>
      hasNested(s, 'push_config'),
    );
    expect(pushes.map(([address]) => address)).toEqual(['google_pubsub_subscription.push']);
    for (const [address, sub] of pushes) {
      const retry = nested(sub, 'retry_policy');
      expect(retry['minimum_backoff'], address).toBe(hcl('var.retry_minimum_backoff'));
      expect(retry['maximum_backoff'], address).toBe(hcl('var.retry_maximum_backoff'));
      const dead = nested(sub, 'dead_letter_policy');
      expect(dead['dead_letter_topic'], address).toBe(hcl('google_pubsub_topic.dead_letter.id'));
      expect(dead['max_delivery_attempts'], address).toBe(hcl('var.max_delivery_attempts'));
    }
    const attempts = root.variables.get('max_delivery_attempts');
    expect(attempts?.['default']).toBeGreaterThanOrEqual(5);
    expect(attempts?.['default']).toBeLessThanOrEqual(100);
    expect(root.variables.get('retry_minimum_backoff')?.['default']).toMatch(/^\d+s$/);
    expect(root.variables.get('retry_maximum_backoff')?.['default']).toMatch(/^\d+s$/);
  });

  it('keeps dead letters: the dead-letter topic has a subscription that never expires', () => {
    expect(str(resource(root, 'google_pubsub_topic.dead_letter'), 'name')).toBe(
      hcl('local.dead_letter_topic'),
    );
    expect(Object.values(TOPICS)).not.toContain(deadLetterTopic);
    const keepers = resourcesOfType(root, 'google_pubsub_subscription').filter(
      ([, s]) => s['topic'] === hcl('google_pubsub_topic.dead_letter.id'),
    );
    expect(keepers).toHaveLength(1);
    const [, keep] = keepers[0] as [string, Block];
    expect(hasNested(keep, 'push_config')).toBe(false);
    expect(nested(keep, 'expiration_policy')['ttl']).toBe('');
  });

  it('the scheduler publishes the tick every minute; the alert channel publishes to the alerts topic', () => {
    const job = resource(root, 'google_cloud_scheduler_job.tick');
    expect(nested(job, 'pubsub_target')['topic_name']).toBe(
      hcl('google_pubsub_topic.topic[local.topics.tick].id'),
    );
    expect(topics['tick']).toBe(TOPICS.tick);
    expect(job['schedule']).toBe(hcl('var.tick_schedule'));
    expect(root.variables.get('tick_schedule')?.['default']).toBe('* * * * *');

    const channel = resource(root, 'google_monitoring_notification_channel.alerts');
    expect(channel['type']).toBe('pubsub');
    expect(channel['labels']).toEqual({ topic: hcl('google_pubsub_topic.topic[local.topics.alerts].id') });
    expect(topics['alerts']).toBe(TOPICS.alerts);
  });
});

describe('the tick fans out', () => {
  it('the tick publishes to rollout-advance (and rollout-events: the outbox drain), and advanceDue is fed by its own push subscription on it', () => {
    expect(topics['advance']).toBe(TOPICS.advance);
    expect(TOPICS.advance).toBe('rollout-advance');
    expect(functions['tick']?.publishes).toEqual([TOPICS.advance, TOPICS.events]);
    expect(functions['advanceDue']).toMatchObject({
      short: 'advance-due',
      trigger: TOPICS.advance,
      publishes: [TOPICS.events],
    });
    expect(pubsubTriggered['advanceDue']?.trigger).toBe(TOPICS.advance);
    // Nothing else publishes to it: only the tick's copies of rollouts arrive there.
    expect(Object.entries(functions).filter(([, f]) => f.publishes.includes(TOPICS.advance))).toEqual([
      ['tick', functions['tick']],
    ]);
  });

  it('every function is told the advance topic', () => {
    expect((root.locals['common_environment'] as Block)['ADVANCE_TOPIC']).toBe(hcl('local.topics.advance'));
  });
});

describe('the workflow', () => {
  it('is deployed from the repository file workflows/canary-rollout.yaml', () => {
    const wf = resource(root, 'google_workflows_workflow.rollout');
    const source = str(wf, 'source_contents');
    const match = /^\$\{file\("\$\{path\.module\}\/(.+)"\)\}$/.exec(source);
    expect(match, source).not.toBeNull();
    expect(resolve(INFRA, match?.[1] ?? '')).toBe(join(REPO, 'workflows', 'canary-rollout.yaml'));
    expect(wf['service_account']).toBe(hcl('google_service_account.workflow.id'));
  });

  it('the workflow file exists (terraform plan reads it)', async () => {
    await expect(access(join(REPO, 'workflows', 'canary-rollout.yaml'))).resolves.toBeUndefined();
  });

  it('functions that start executions get WORKFLOW_NAME and the advance function URL; hook callers get the hooks identity', async () => {
    const env = (resource(root, 'google_cloudfunctions2_function.fn')['service_config'] as Block[])[0]?.[
      'environment_variables'
    ];
    expect(String(env).replace(/\s+/g, ' ')).toBe(
      hcl(
        'merge( local.common_environment, contains(each.value.uses, "workflowexecutions") ? local.workflow_environment : {}, contains(keys(local.hook_callers), each.key) ? { HOOKS_SERVICE_ACCOUNT = google_service_account.hooks.email } : {}, var.authorization_policy == null ? {} : { AUTHZ_POLICY = jsonencode(var.authorization_policy) }, var.extra_environment, )',
      ),
    );
    expect(root.locals['workflow_environment']).toEqual({
      WORKFLOW_NAME: hcl('google_workflows_workflow.rollout.id'),
      ADVANCE_URL: hcl('local.advance_url'),
    });
    expect(root.locals['advance_url']).toBe(hcl('local.function_urls[local.advance_function]'));
    const advance = await evaluateLocals<string>('local.advance_function');
    expect(ENTRY_POINTS.find((ep) => ep.name === advance)?.trigger.kind).toBe('http');
  });
});

describe('the advance URL check', () => {
  const FN = 'google_cloudfunctions2_function.fn[local.advance_function]';
  const DETERMINISTIC = 'https://canary-advance-rollout-123456789012.europe-west1.run.app';
  const HASHED = 'https://canary-advance-rollout-x7k2q9abcd-ew.a.run.app';

  function advanceCheck(): { data: Block; condition: string } {
    const check = root.checks.get('advance_url');
    if (check === undefined) throw new Error('check "advance_url" is missing');
    const data = root.data.get('google_cloud_run_v2_service.advance');
    if (data === undefined) throw new Error('the check reads no Cloud Run service');
    return { data, condition: str(blocks(check, 'assert')[0] as Block, 'condition') };
  }

  /** The check's condition with its references replaced by literal values, evaluated by Terraform. */
  async function holds(advanceUrl: string, serviceUrls: readonly string[]): Promise<boolean> {
    const expression = advanceCheck()
      .condition.slice(2, -1)
      .replaceAll('data.google_cloud_run_v2_service.advance.urls', JSON.stringify(serviceUrls))
      .replaceAll(`${FN}.service_config[0].uri`, JSON.stringify(HASHED))
      .replaceAll(`${FN}.url`, JSON.stringify(HASHED))
      .replaceAll('local.advance_url', JSON.stringify(advanceUrl))
      .replace(/\s+/g, ' ');
    expect(expression).not.toMatch(/\b(local|data|google_\w+)\./);
    return evaluateLocals<boolean>(expression);
  }

  it('reads the advance function’s own Cloud Run service, scoped to the check', () => {
    const { data } = advanceCheck();
    expect(data['name']).toBe(hcl(`${FN}.service_config[0].service`));
    expect(data['location']).toBe(hcl('var.region'));
    expect(root.checks.get('advance_url')?.['data']).toBeDefined();
  });

  it('passes for either URL form Cloud Run serves, and warns for any other', async () => {
    const urls = [HASHED, DETERMINISTIC];
    expect(await holds(DETERMINISTIC, urls)).toBe(true);
    expect(await holds(HASHED, urls)).toBe(true);
    // The function's own URL counts even before the service's list is read.
    expect(await holds(HASHED, [])).toBe(true);
    expect(await holds('https://canary-advance-rollout-999.europe-west1.run.app', urls)).toBe(false);
  });
});

describe('function configuration', () => {
  it('sets only variables the controller reads (docs/configuration.md), incl. the required ones', async () => {
    const doc = await readFile(join(REPO, 'docs', 'configuration.md'), 'utf8');
    const documented = new Set([...doc.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]));
    const common = root.locals['common_environment'] as Block;
    const workflow = root.locals['workflow_environment'] as Block;
    // LOG_EXECUTION_ID is read by Cloud Run functions itself (execution ids in the logs).
    for (const key of [...Object.keys(common), ...Object.keys(workflow)].filter(
      (k) => k !== 'LOG_EXECUTION_ID',
    )) {
      expect(documented.has(key), `${key} is not in docs/configuration.md`).toBe(true);
    }
    expect(Object.keys(common)).toEqual(expect.arrayContaining(['GOOGLE_CLOUD_PROJECT', 'ALLOWED_ROUTES']));
    // The project number, so backends written projects/<number>/… match projects/<id>/….
    expect(common['PROJECT_NUMBER']).toBe(hcl('data.google_project.this.number'));
    expect(root.data.get('google_project.this')?.['project_id']).toBe(hcl('var.project_id'));
    expect(common['EVENTS_TOPIC']).toBe(hcl('local.topics.events'));
    expect(topics['events']).toBe(TOPICS.events);
  });

  it('refuses to deploy without a route to manage', () => {
    const fn = resource(root, 'google_cloudfunctions2_function.fn');
    const lifecycle = nested(fn, 'lifecycle');
    expect(nested(lifecycle, 'precondition')['condition']).toBe(hcl('length(local.allowed_routes) > 0'));
  });
});

describe('Firestore (docs/state.md)', () => {
  it('declares no composite index on rollouts for the tick: the due-rollouts query is a range on nextActionAt alone', async () => {
    const doc = await readFile(join(REPO, 'docs', 'state.md'), 'utf8');
    expect(doc).toMatch(
      /due-rollouts query \(`nextActionAt <= now ORDER BY nextActionAt`\)[^.]*needs no composite index/,
    );
    // The one on rollouts serves `rolloutctl history --route` (test/infra/firestore-indexes.test.ts), not the tick.
    const onRollouts = resourcesOfType(root, 'google_firestore_index').filter(
      ([name, index]) => index['collection'] === 'rollouts' && !name.endsWith('.rollouts_by_route'),
    );
    expect(onRollouts).toEqual([]);
  });

  it('creates the composite index the stray-operations query needs', async () => {
    const doc = await readFile(join(REPO, 'docs', 'state.md'), 'utf8');
    const m = /composite index\s+`\(([^)]+)\)`\s+on collection\s+`(routeOperations)`/.exec(doc);
    expect(m, 'docs/state.md names the routeOperations index').not.toBeNull();
    const expected = (m?.[1] ?? '').split(',').map((part) => {
      const [field, dir] = part.trim().split(/\s+/);
      return { field_path: field, order: dir === 'DESC' ? 'DESCENDING' : 'ASCENDING' };
    });
    const index = resource(root, 'google_firestore_index.route_operations_stray');
    expect(index['collection']).toBe(m?.[2]);
    expect(index['fields']).toEqual(expected);
  });

  it('sets the TTL policy on processed-message records', async () => {
    const doc = await readFile(join(REPO, 'docs', 'state.md'), 'utf8');
    const m = /TTL policy on\s+`(\w+)\.(\w+)`/.exec(doc);
    expect(m, 'docs/state.md names the TTL field').not.toBeNull();
    const ttl = resource(root, 'google_firestore_field.processed_messages_ttl');
    expect(ttl['collection']).toBe(m?.[1]);
    expect(ttl['field']).toBe(m?.[2]);
    expect(hasNested(ttl, 'ttl_config')).toBe(true);
    expect(ttl['database']).toBe(hcl('local.firestore_database'));
  });

  it('creates a native-mode database (optional) without deleting data on destroy', () => {
    const db = resource(root, 'google_firestore_database.db');
    expect(db['type']).toBe('FIRESTORE_NATIVE');
    expect(db['deletion_policy']).toBe('ABANDON');
  });
});
