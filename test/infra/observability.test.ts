/**
 * The log-based metrics of infra/observability.tf against the lines the controller actually
 * writes: Terraform itself evaluates the metrics' filters, extractors and the dashboard (its
 * locals, with `terraform console`); startRollout accepts a request and the production executor
 * drives real changes — a step, a failed verdict and its rollback, a person's split, a route
 * without its rule, an operator's pause — over in-memory ports with a capturing log sink; each filter must match the lines it is
 * meant for (and only those), each extractor must name a field present with the right type, and
 * the dashboard and alert may read only the metrics defined there.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/app/config.ts';
import { LifecycleEvents } from '../../functions/app/lifecycle-events.ts';
import { createLogger } from '../../functions/app/log.ts';
import { RolloutExecutor } from '../../functions/app/rollout-executor.ts';
import { startRollout } from '../../functions/app/start-rollout.ts';
import { judgeFor } from '../../functions/core/analysis/select-judge.ts';
import type { Input } from '../../functions/core/inputs.ts';
import { parseFilter } from '../../local/monitoring/filter.ts';
import { newRollout, requestInput } from '../support/fixtures.ts';
import { entryOf, extractedPath, fieldOf, type LogEntry, matches } from '../support/logging-filter.ts';
import { MemoryMetrics, MemoryPublisher, MemoryRouter, MemoryStore } from '../support/memory-ports.ts';
import {
  type Block,
  hcl,
  INFRA,
  type Json,
  loadModule,
  type Module,
  nested,
  resource,
  terraform,
} from './terraform.ts';

interface LogMetric {
  readonly name: string;
  readonly filter: string;
  readonly value_type: 'DISTRIBUTION' | 'INT64';
  readonly field: string | null;
  readonly labels: Readonly<Record<string, string>>;
  readonly bounds: readonly number[];
}

interface Evaluated {
  readonly functionNames: Readonly<Record<string, string>>;
  readonly services: readonly string[];
  readonly metrics: Readonly<Record<string, LogMetric>>;
  readonly types: Readonly<Record<string, string>>;
  readonly chartFilters: Readonly<Record<string, string>>;
  readonly dashboard: Json;
}

const PREFIX = 'canary';

function localsOf(doc: Json): Record<string, Json> {
  const out: Record<string, Json> = {};
  const blocks = (doc as { locals?: Json }).locals;
  for (const block of Array.isArray(blocks) ? blocks : []) Object.assign(out, block as Record<string, Json>);
  return out;
}

/**
 * observability.tf's locals (and functions.tf's function_names they use) as Terraform computes
 * them: written as a .tf.json module beside locals.tf, where strings are read as templates
 * exactly as hcl2json renders them from HCL.
 */
async function evaluate(): Promise<Evaluated> {
  const source = async (file: string) =>
    (await parse(file, await readFile(join(INFRA, file), 'utf8'))) as Json;
  const observability = localsOf(await source('observability.tf'));
  const functionNames = localsOf(await source('functions.tf'))['function_names'];
  if (functionNames === undefined) throw new Error('functions.tf declares no local.function_names');
  const dir = await mkdtemp(join(tmpdir(), 'tf-observability-'));
  try {
    await writeFile(join(dir, 'locals.tf'), await readFile(join(INFRA, 'locals.tf'), 'utf8'));
    const module = {
      variable: { name_prefix: { type: 'string', default: PREFIX } },
      locals: { function_names: functionNames, ...observability },
    };
    await writeFile(join(dir, 'observability.tf.json'), JSON.stringify(module));
    const expression =
      'jsonencode({ functionNames = local.function_names, services = local.rollout_log_services, metrics = local.rollout_log_metrics, types = local.rollout_metric_types, chartFilters = local.rollout_chart_filters, dashboard = local.rollout_dashboard })';
    const result = await terraform(['console'], { cwd: dir, input: `${expression}\n` });
    if (result.code !== 0) throw new Error(`terraform console failed:\n${result.stderr || result.stdout}`);
    const literal = result.stdout.trim().split('\n').at(-1) ?? '';
    return JSON.parse(JSON.parse(literal) as string) as Evaluated;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const S = 1000;
/** The fixture's first window [T0 + 60 s, T0 + 120 s), looked at once readable (rollout-executor.test.ts). */
const FIRST_WINDOW_READY = 135 * S;
const healthy = { kind: 'data', requests: 1000, errors: 1, latency: null } as const;

/** One rollout driven by the production executor; every line it logs goes to `lines`. */
function drive(id: string, lines: string[]) {
  const log = createLogger({}, (line) => lines.push(line));
  const store = new MemoryStore();
  const router = new MemoryRouter({ stable: 100, canary: 0 });
  const metrics = new MemoryMetrics({ stable: { ...healthy, requests: 9000 }, canary: healthy });
  const publisher = new MemoryPublisher();
  const clock = { now: T0 };
  const executor = new RolloutExecutor({
    store,
    router: async () => router,
    metrics: async () => metrics,
    judgeFor,
    events: new LifecycleEvents(async () => publisher, 'rollout-events', log, store),
    clock: () => clock.now,
    log,
  });
  const created = newRollout(id, {}, T0);
  return {
    store,
    router,
    metrics,
    clock,
    create: () => store.create(created.rollout, created.entry),
    run: (input: Input) => executor.run(id, input),
    events: async () => (await store.history(id)).map((h) => h.event),
  };
}

/** The lines of real changes: a step, a failed verdict and its rollback, and three kinds of stop. */
async function controllerLines(): Promise<string[]> {
  const lines: string[] = [];
  const start = { type: 'start', actor: 'workflow:e1' } as const;

  const failing = drive('fails', lines);
  await failing.create();
  await failing.run(start);
  failing.metrics.readings.canary = { kind: 'data', requests: 1000, errors: 300, latency: null };
  // Judged once a minute: the third window's evidence reaches the threshold (e-value ≥ 1/α).
  for (const window of [0, 1, 2]) {
    failing.clock.now = T0 + FIRST_WINDOW_READY + window * 60 * S;
    await failing.run({ type: 'due', actor: 'workflow:e1' });
  }
  expect(await failing.events()).toEqual(
    expect.arrayContaining(['rollout.weights_live', 'rollout.rolled_back']),
  );

  const drifted = drive('drifted', lines);
  await drifted.create();
  drifted.router.weights = { stable: 70, canary: 30 };
  await drifted.run(start);
  expect(await drifted.events()).toContain('rollout.paused');

  const ruleless = drive('ruleless', lines);
  await ruleless.create();
  ruleless.router.route = { ...ruleless.router.route, rules: [] };
  await ruleless.run(start);
  expect(await ruleless.events()).toContain('rollout.action_required');

  const held = drive('held', lines);
  await held.create();
  await held.run(start);
  await held.run({ type: 'control', command: 'pause', actor: 'operator:ann', note: 'lunch' });
  expect(await held.events()).toContain('rollout.paused');
  return lines;
}

/** A request accepted by startRollout (the start-rollout function's path), as it logs it. */
async function startLines(): Promise<string[]> {
  const lines: string[] = [];
  const log = createLogger({}, (line) => lines.push(line));
  const store = new MemoryStore();
  const router = new MemoryRouter({ stable: 100, canary: 0 });
  const metrics = new MemoryMetrics({ stable: healthy, canary: healthy });
  const events = new LifecycleEvents(async () => new MemoryPublisher(), 'rollout-events', log, store);
  const clock = () => T0;
  const executor = new RolloutExecutor({
    store,
    router: async () => router,
    metrics: async () => metrics,
    judgeFor,
    events,
    clock,
    log,
  });
  const config = loadConfig({
    GOOGLE_CLOUD_PROJECT: 'demo-project',
    ALLOWED_ROUTES: 'projects/demo-project/locations/global/httpRoutes/*',
  });
  const executions = async () => {
    throw new Error('a scheduler-driven rollout starts no execution');
  };
  const deps = { store, router: async () => router, executions, executor, events, config, clock, log };
  const body = requestInput({ rolloutId: 'started', driver: 'scheduler' });
  const caller = { kind: 'topic', topic: 'rollout-requests', claimed: null } as const;
  await startRollout(deps, { body, messageId: 'm1', actor: 'pubsub:m1', caller });
  expect(await store.history('started')).not.toEqual([]);
  return lines;
}

let root: Module;
let tf: Evaluated;
let entries: LogEntry[];
let advanceService: string;

beforeAll(async () => {
  [root, tf] = await Promise.all([loadModule(INFRA), evaluate()]);
  advanceService = tf.functionNames['advanceRollout'] ?? '';
  const started = (await startLines()).map((line) => entryOf(line, tf.functionNames['startRollout'] ?? ''));
  entries = [...(await controllerLines()).map((line) => entryOf(line, advanceService)), ...started];
});

const resourceOf = (address: string): Block => resource(root, address);

const rolloutOf = (e: LogEntry) => e.jsonPayload['rollout'] as Record<string, unknown> | undefined;
const matching = (filter: string) => entries.filter((e) => matches(filter, e));

describe('infra/observability.tf: the resources read the evaluated definitions', () => {
  it('one google_logging_metric per definition, each field taken from it, DELTA, extractors EXTRACT(field)', () => {
    const metric = resourceOf('google_logging_metric.rollout');
    expect(metric['for_each']).toBe(hcl('local.rollout_log_metrics'));
    expect(metric['filter']).toBe(hcl('each.value.filter'));
    expect(metric['name']).toBe(hcl('each.value.name'));
    expect(metric['value_extractor']).toBe(
      hcl(`each.value.field == null ? null : "EXTRACT(${hcl('each.value.field')})"`),
    );
    expect(metric['label_extractors']).toBe(
      hcl(`{ for key, field in each.value.labels : key => "EXTRACT(${hcl('field')})" }`),
    );
    const descriptor = nested(metric, 'metric_descriptor');
    expect(descriptor['metric_kind']).toBe('DELTA');
    expect(descriptor['value_type']).toBe(hcl('each.value.value_type'));
  });

  it('the dashboard is the evaluated local; the alert reads the needs-person metric and notifies the operators', () => {
    expect(resourceOf('google_monitoring_dashboard.rollouts')['dashboard_json']).toBe(
      hcl('jsonencode(local.rollout_dashboard)'),
    );
    const alert = resourceOf('google_monitoring_alert_policy.rollout_needs_person');
    expect(alert['notification_channels']).toBe(hcl('var.operator_notification_channels'));
    const condition = nested(alert, 'conditions', 'condition_threshold');
    expect(condition['filter']).toBe(hcl('local.rollout_chart_filters.needs_person'));
  });

  it('the filter names the services of every function that publishes lifecycle events, not the tick', () => {
    const publishing = ['advanceDue', 'advanceRollout', 'control', 'controlHttp', 'onAlert', 'startRollout'];
    expect([...tf.services].sort()).toEqual(publishing.map((f) => tf.functionNames[f]).sort());
    expect(tf.services).not.toContain(tf.functionNames['tick']);
    expect(advanceService).toBe(`${PREFIX}-advance-rollout`);
  });
});

describe('the metrics against the lines the controller writes', () => {
  it('drives real changes whose lines carry the rollout object', () => {
    const events = entries.flatMap((e) => {
      const r = rolloutOf(e);
      return r === undefined ? [] : [r['event']];
    });
    expect(events).toEqual(
      expect.arrayContaining(['rollout.weights_live', 'rollout.rolling_back', 'rollout.rolled_back']),
    );
  });

  it('the start-rollout function’s line of a new rollout carries it too, and counts as a weight', () => {
    const created = entries.filter((e) => rolloutOf(e)?.['event'] === 'rollout.created');
    const fromStart = created.filter(
      (e) => e.resource.labels['service_name'] === tf.functionNames['startRollout'],
    );
    expect(fromStart.map((e) => rolloutOf(e)?.['id'])).toEqual(['started']);
    expect(matches(tf.metrics['canary_weight']?.filter ?? '', fromStart[0] as LogEntry)).toBe(true);
  });

  it('every metric matches some line, and only committed changes on the controller services', () => {
    for (const [key, metric] of Object.entries(tf.metrics)) {
      const hits = matching(metric.filter);
      expect(hits.length, `${key} matches no line the controller writes`).toBeGreaterThan(0);
      for (const hit of hits) expect(rolloutOf(hit), key).toBeDefined();
      const elsewhere = hits.map((e) => ({
        ...e,
        resource: { ...e.resource, labels: { service_name: 'other' } },
      }));
      const tick = hits.map((e) => ({
        ...e,
        resource: { ...e.resource, labels: { service_name: tf.functionNames['tick'] ?? 'tick' } },
      }));
      expect(
        [...elsewhere, ...tick].filter((e) => matches(metric.filter, e)),
        key,
      ).toEqual([]);
    }
  });

  it('each value extractor names a finite number and each label extractor a non-empty string on every matched line', () => {
    for (const [key, metric] of Object.entries(tf.metrics)) {
      expect(metric.field === null, key).toBe(metric.value_type === 'INT64');
      for (const hit of matching(metric.filter)) {
        if (metric.field !== null) {
          const value = fieldOf(hit, extractedPath(`EXTRACT(${metric.field})`));
          expect(
            typeof value === 'number' && Number.isFinite(value),
            `${key}: ${metric.field} = ${value}`,
          ).toBe(true);
        }
        for (const [label, field] of Object.entries(metric.labels)) {
          const value = fieldOf(hit, extractedPath(`EXTRACT(${field})`));
          expect(typeof value === 'string' && value !== '', `${key}.${label}: ${field} = ${value}`).toBe(
            true,
          );
        }
      }
    }
  });

  it('rollbacks count the rolled-back rollout once, with its cause', () => {
    const hits = matching(tf.metrics['rollbacks']?.filter ?? '');
    expect(hits.map((e) => [rolloutOf(e)?.['id'], rolloutOf(e)?.['rollbackCause']])).toEqual([
      ['fails', 'verdict'],
    ]);
  });

  it('the failed window reaches its threshold in the line of the rollback it caused', () => {
    const e = tf.metrics['e_value'];
    const hits = matching(e?.filter ?? '').filter((x) => rolloutOf(x)?.['event'] === 'rollout.rolling_back');
    expect(hits).toHaveLength(1);
    const fields = rolloutOf(hits[0] as LogEntry) ?? {};
    expect(fields['eValue']).toBeGreaterThanOrEqual(fields['eValueThreshold'] as number);
    expect(fields['canaryErrorRatio']).toBeGreaterThan(fields['stableErrorRatio'] as number);
  });

  it('needs-person matches the stops no person asked for, not an operator’s pause', () => {
    const hits = matching(tf.metrics['needs_person']?.filter ?? '');
    const seen = hits.map((e) => [rolloutOf(e)?.['id'], rolloutOf(e)?.['needsPerson']]);
    expect(seen).toEqual(
      expect.arrayContaining([
        ['drifted', 'drift'],
        ['ruleless', expect.any(String)],
      ]),
    );
    expect(seen.map(([id]) => id)).not.toContain('held');
  });
});

describe('the dashboard and the alert read only the metrics defined here', () => {
  function filters(value: Json, found: string[] = []): string[] {
    if (Array.isArray(value)) for (const v of value) filters(v, found);
    else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (k === 'filter' && typeof v === 'string') found.push(v);
        else filters(v, found);
      }
    }
    return found;
  }

  it('every chart filter is a Monitoring filter on one of these metrics, and every metric is charted', () => {
    const defined = new Set(Object.values(tf.types));
    const used = filters(tf.dashboard).map((f) => parseFilter(f).metricType);
    expect(used.length).toBeGreaterThan(0);
    for (const type of used) expect(defined, type).toContain(type);
    expect(new Set(used)).toEqual(defined);
    for (const [key, m] of Object.entries(tf.metrics))
      expect(tf.types[key]).toBe(`logging.googleapis.com/user/${m.name}`);
  });

  it('the alert condition’s filter is a Monitoring filter on the needs-person metric', () => {
    expect(parseFilter(tf.chartFilters['needs_person'] ?? '').metricType).toBe(tf.types['needs_person']);
  });
});

describe('the logging filter evaluator', () => {
  const entry = entryOf(
    JSON.stringify({ severity: 'INFO', rollout: { event: 'rollout.paused', step: 1 } }),
    'svc',
  );

  it('reads the subset the metrics use', () => {
    expect(matches('jsonPayload.rollout.event = ("rollout.x" OR "rollout.paused")', entry)).toBe(true);
    expect(matches('jsonPayload.rollout.event:"ROLLOUT."', entry)).toBe(true);
    expect(matches('jsonPayload.rollout.step:*', entry)).toBe(true);
    expect(matches('jsonPayload.rollout.eValue:*', entry)).toBe(false);
    expect(
      matches('resource.labels.service_name = "svc" AND jsonPayload.rollout.event = "rollout.nope"', entry),
    ).toBe(false);
  });

  it('refuses what it cannot read instead of matching', () => {
    for (const filter of [
      'NOT jsonPayload.rollout.step:*',
      'jsonPayload.a = "x" OR jsonPayload.b = "y"',
      'jsonPayload.rollout.step >= 1',
      'jsonPayload.rollout.event = rollout',
      'jsonPayload.rollout.event != "x"',
      'starts_with(jsonPayload.rollout.event, "r")',
    ]) {
      expect(() => matches(filter, entry), filter).toThrow(/unsupported|expected/);
    }
    expect(() => extractedPath('REGEXP_EXTRACT(jsonPayload.a, "(x)")')).toThrow(/unsupported extractor/);
  });
});
