/**
 * rolloutctl plan as a process against a full local cloud (stand-ins + emulators), configured
 * from the file the local cloud writes (.local/controller.env's format): a good request passes
 * with every section; requests that would fail name each problem and exit 3; and in every case
 * the routes and Firestore are byte-for-byte what they were, and nothing is published.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DocumentReference, Firestore } from '@google-cloud/firestore';
import { type Message, PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createFirestore } from '../../functions/adapters/firestore-client.ts';
import { FirestoreRolloutStore } from '../../functions/adapters/firestore-store.ts';
import { TOPICS } from '../../functions/manifest.ts';
import { type LocalCloud, startLocalCloud } from '../../local/cloud.ts';
import { writeControllerEnvFile } from '../../local/commands/env-file.ts';
import { controllerEnvFor } from '../../local/controller.ts';
import type { DemoApp } from '../../local/demo-apps.ts';
import { type CliRun, runRolloutctl } from '../support/cli.ts';
import { newRollout } from '../support/fixtures.ts';

const PROJECT = 'cli-plan';
const MINUTE = 60_000;
let cloud: LocalCloud;
let db: Firestore;
let pubsub: PubSub;
let configFile = '';
let dir = '';
const published: Message[] = [];

function app(name: string): DemoApp {
  const found = cloud.apps.find((a) => a.name === name);
  if (!found) throw new Error(`no app ${name}`);
  return found;
}

/** Requests per minute each Cloud Run service serves: the last ten minutes written at once, then live. */
const RATES: Readonly<Record<string, number>> = {
  'checkout-v1': 120,
  'checkout-v2': 30,
  'cart-v1': 120,
  'search-v1': 120,
  'search-v2': 30,
};
let live: NodeJS.Timeout | undefined;

function serve(from: number, to: number): void {
  for (const [service, perMinute] of Object.entries(RATES)) {
    const every = MINUTE / perMinute;
    for (let at = Math.ceil(from / every) * every; at < to; at += every) {
      cloud.recorder.record({ service, responseCode: 200, latencyMs: 12, at });
    }
  }
}

async function traffic(): Promise<void> {
  let until = Date.now();
  serve(until - 11 * MINUTE, until);
  await cloud.recorder.flush();
  live = setInterval(() => {
    const now = Date.now();
    serve(until, now);
    until = now;
  }, 250);
}

beforeAll(async () => {
  cloud = await startLocalCloud({
    project: PROJECT,
    apps: ['checkout', 'cart', 'search'],
    // Google's one-minute points, visible at once (the test reads what it just wrote).
    timingOverrides: { ingestionDelay: 0 },
    firestoreHost: inject('firestoreHost'),
    pubsubHost: inject('pubsubHost'),
  });
  dir = mkdtempSync(join(tmpdir(), 'rolloutctl-plan-'));
  configFile = writeControllerEnvFile(controllerEnvFor(cloud), join(dir, 'controller.env'));
  db = createFirestore({ projectId: PROJECT, emulatorHost: cloud.firestoreHost });
  // Something in Firestore to stay unchanged: a finished-looking rollout of another route.
  const store = new FirestoreRolloutStore(db);
  const seeded = newRollout('earlier-rollout');
  await store.create(seeded.rollout, seeded.entry);
  // And the search route held by a rollout (its lock in Firestore; the route itself untouched).
  const search = app('search');
  const holder = newRollout('search-holder', {
    route: search.route,
    stable: search.stable,
    canary: search.canary,
  });
  await store.create(holder.rollout, holder.entry);
  pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: cloud.pubsubHost });
  for (const topic of Object.values(TOPICS)) {
    const [sub] = await pubsub.topic(topic).createSubscription(`plan-watch-${topic}`);
    sub.on('message', (m: Message) => {
      published.push(m);
      m.ack();
    });
  }
  await traffic();
});

afterAll(async () => {
  clearInterval(live);
  await pubsub?.close();
  await db?.terminate();
  await cloud?.stop();
});

/** Every route as the API serves it, and every Firestore document with its update time, as text. */
async function rawState(): Promise<string> {
  const routes = await Promise.all(
    cloud.apps.map((a) => fetch(`${cloud.networkServices.url}v1/${a.route}`).then((r) => r.text())),
  );
  const docs: string[] = [];
  const walk = async (refs: readonly DocumentReference[]): Promise<void> => {
    for (const ref of refs) {
      const snap = await ref.get();
      docs.push(
        `${ref.path} ${snap.updateTime?.toMillis() ?? 'none'} ${JSON.stringify(snap.data() ?? null)}`,
      );
      for (const sub of await ref.listCollections()) await walk(await sub.listDocuments());
    }
  };
  for (const collection of await db.listCollections()) await walk(await collection.listDocuments());
  return JSON.stringify({ routes, docs: docs.sort() });
}

async function plan(request: unknown, ...extra: string[]): Promise<CliRun> {
  const file = join(dir, `request-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(request));
  return runRolloutctl(['plan', '--config', configFile, '-f', file, ...extra], { timeoutMs: 60_000 });
}

/** Runs plan and checks nothing changed and nothing was published. */
async function planChangesNothing(request: unknown, ...extra: string[]): Promise<CliRun> {
  const before = await rawState();
  const run = await plan(request, ...extra);
  expect(await rawState()).toBe(before);
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(published).toEqual([]);
  return run;
}

function requestFor(a: DemoApp, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    rolloutId: `plan-${a.name}`,
    route: a.route,
    stable: a.stable,
    canary: a.canary,
    steps: [
      { weight: 10, hold: '2m' },
      { weight: 50, hold: '2m' },
    ],
    analysis: { minRequests: 5 },
    ...overrides,
  };
}

interface PlanJson {
  ok: boolean;
  problems: { section: string; code: string; message: string }[];
  [section: string]: unknown;
}

function parsed(run: CliRun): PlanJson {
  return JSON.parse(run.stdout) as PlanJson;
}

describe('rolloutctl plan', () => {
  it('a good request: exit 0 with every section, the route diff per step, traffic for both backends', async () => {
    const a = app('checkout');
    const run = await planChangesNothing(requestFor(a), '--json');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = parsed(run);
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({
      ok: true,
      rolloutId: 'plan-checkout',
      schema: { valid: true, issues: [] },
      allowlist: [{ route: a.route, allowed: true }],
      routes: [{ route: a.route, read: true, rule: { index: 1, weights: { stable: 100, canary: 0 } } }],
      writes: [
        {
          route: a.route,
          steps: [
            {
              step: 0,
              kind: 'write',
              ruleIndex: 1,
              before: [{ name: a.stable, weight: null }],
              after: [
                { name: a.stable, weight: 90 },
                { name: a.canary, weight: 10 },
              ],
            },
            {
              step: 1,
              kind: 'write',
              after: [
                { name: a.stable, weight: 50 },
                { name: a.canary, weight: 50 },
              ],
            },
            { step: 2, kind: 'write', after: [{ name: a.canary, weight: null }] },
          ],
        },
      ],
      metrics: {
        checked: true,
        enough: true,
        backends: [
          { role: 'stable', hasData: true },
          { role: 'canary', hasData: true },
        ],
        needs: { minRequests: 5, windowMinutes: 1, firstCanaryPercent: 10, requestsPerMinute: 50 },
      },
      timeline: { gates: 0 },
    });
    // 120 and 30 requests a minute were served; a minute at either end of the window may be partial.
    const rates = (report['metrics'] as { backends: { requestsPerMinute: number }[] }).backends;
    expect(rates[0]?.requestsPerMinute).toBeGreaterThanOrEqual(100);
    expect(rates[0]?.requestsPerMinute).toBeLessThanOrEqual(120);
    expect(rates[1]?.requestsPerMinute).toBeGreaterThanOrEqual(25);
    expect(rates[1]?.requestsPerMinute).toBeLessThanOrEqual(30);
    expect(report['alerts']).toEqual({
      checked: true,
      scanned: 3,
      policies: [
        {
          name: expect.stringMatching(/^projects\/cli-plan\/alertPolicies\//),
          displayName: 'checkout canary 5xx ratio above 0.1',
          enabled: true,
          labels: { rollout_route: 'checkout', rollout_canary: 'checkout-v2' },
          by: 'rollout_route',
        },
      ],
    });
    expect(report['iam']).toMatchObject({
      checked: true,
      routes: [
        {
          route: a.route,
          principal: 'caller',
          permissions: expect.arrayContaining([
            { permission: 'networkservices.httpRoutes.get', granted: true },
            { permission: 'networkservices.httpRoutes.update', granted: true },
          ]),
        },
      ],
    });
    expect((report['timeline'] as { steps: unknown[] }).steps).toHaveLength(3);
  });

  it('prints a readable report, problems first', async () => {
    const run = await planChangesNothing(requestFor(app('checkout')));
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe('plan: no problems found');
    expect(run.stdout).toContain(
      'step 0 (stable 90% / canary 10%): rule 1: checkout-v1 → checkout-v1=90, checkout-v2=10',
    );
    expect(run.stdout).toMatch(/canary +\d+(\.\d)? requests\/min/);
  });

  it('a route outside the allowlist that does not exist: both named, exit 3', async () => {
    const a = app('checkout');
    const route = `projects/${PROJECT}/locations/global/httpRoutes/elsewhere`;
    const run = await planChangesNothing(requestFor(a, { route }), '--json');
    expect(run.code).toBe(3);
    const report = parsed(run);
    expect(report.ok).toBe(false);
    expect(report['allowlist']).toEqual([{ route, allowed: false }]);
    expect(report.problems.map((p) => [p.section, p.code])).toEqual(
      expect.arrayContaining([
        ['allowlist', 'ROUTE_NOT_ALLOWED'],
        ['routes', 'ROUTE_NOT_FOUND'],
      ]),
    );
    expect(report.problems.find((p) => p.code === 'ROUTE_NOT_ALLOWED')?.message).toContain(route);
  });

  it('no rule routes to the stable backend, and the canary has no metrics: each named, exit 3', async () => {
    const a = app('checkout');
    const backend = (s: string) => `projects/${PROJECT}/locations/global/backendServices/${s}`;
    const run = await planChangesNothing(
      requestFor(a, { stable: backend('checkout-v7'), canary: backend('checkout-v8') }),
      '--json',
    );
    expect(run.code).toBe(3);
    const report = parsed(run);
    const named = report.problems.map((p) => `${p.section} ${p.code} ${p.message}`);
    expect(named).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^routes ROUTE_NOT_READY no rule of route .*checkout routes to the stable backend .*checkout-v7/,
        ),
        expect.stringMatching(/^metrics NO_METRICS no stable metrics/),
        expect.stringMatching(/^metrics NO_METRICS no canary metrics/),
      ]),
    );
    expect(report['writes']).toEqual([]);
  });

  it('a permission the caller lacks is reported as not granted (not a problem: the controller runs as itself)', async () => {
    cloud.networkServices.store.permissions.revoke('networkservices.httpRoutes.update');
    try {
      const run = await planChangesNothing(requestFor(app('checkout')));
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('NOT granted networkservices.httpRoutes.update');
      expect(run.stdout).toContain("not checked: the controller's service account");
    } finally {
      cloud.networkServices.store.permissions.restore('networkservices.httpRoutes.update');
    }
  });

  it('no metrics for the canary: named, exit 3, in text too', async () => {
    const run = await planChangesNothing(requestFor(app('cart')));
    expect(run.code).toBe(3);
    expect(run.stdout.split('\n')[0]).toBe('plan: 1 problem');
    expect(run.stdout).toMatch(/✗ \[metrics\] NO_METRICS: no canary metrics in Cloud Monitoring/);
    expect(run.stdout).toMatch(/canary +no data/);
  });

  it('a request the schema rejects: the fields named, the other sections not checked, exit 3', async () => {
    const run = await planChangesNothing(
      { route: app('checkout').route, steps: [{ weight: 500 }] },
      '--json',
    );
    expect(run.code).toBe(3);
    const report = parsed(run);
    expect(report['schema']).toMatchObject({ valid: false });
    expect(JSON.stringify(report['schema'])).toContain('steps[0]');
    expect(report['routes']).toEqual({ checked: false, why: 'the request does not pass the schema' });
  });

  it('an id already used, a route another rollout holds: each named from Firestore, exit 3', async () => {
    const search = app('search');
    const run = await planChangesNothing(requestFor(search, { rolloutId: 'earlier-rollout' }), '--json');
    expect(run.code).toBe(3);
    const report = parsed(run);
    expect(report.problems.map((p) => `${p.section} ${p.code}`)).toEqual([
      'store SPEC_CONFLICT',
      'store ROUTE_LOCKED',
    ]);
    expect(report.problems[1]?.message).toContain('search-holder');
    expect(report['store']).toMatchObject({
      existing: { id: 'earlier-rollout' },
      queues: [{ route: search.route, holder: 'search-holder', waiting: 0 }],
    });
    const queued = await planChangesNothing(requestFor(search, { whenRouteBusy: 'queue' }));
    expect(queued.code).toBe(0);
    expect(queued.stdout).toContain(`${search.route}: held by search-holder (whenRouteBusy: queue)`);
  });

  it('a metric filter Monitoring rejects: named as a problem, the metrics section not checked', async () => {
    const a = app('checkout');
    const bad = 'metric.type = "run.googleapis.com/request_count" OR resource.type = "x"';
    const metrics = {
      stable: { preset: 'cloudRun', service: 'checkout-v1' },
      canary: { preset: 'filter', requests: bad, errors: bad },
    };
    const run = await planChangesNothing(requestFor(a, { analysis: { minRequests: 5, metrics } }), '--json');
    expect(run.code).toBe(3);
    const report = parsed(run);
    expect(report.problems.map((p) => `${p.section} ${p.code}`)).toEqual(['metrics METRICS_QUERY_INVALID']);
    expect(report['metrics']).toMatchObject({
      checked: false,
      why: expect.stringContaining('METRICS_QUERY_INVALID'),
    });
  });

  it('a Network Services API that cannot be reached: exit 5, nothing changed', async () => {
    const unreachable = join(dir, 'unreachable.env');
    writeControllerEnvFile(
      { ...controllerEnvFor(cloud), NETWORK_SERVICES_ENDPOINT: 'http://127.0.0.1:9/' },
      unreachable,
    );
    const file = join(dir, 'unreachable.json');
    writeFileSync(file, JSON.stringify(requestFor(app('checkout'))));
    const before = await rawState();
    const run = await runRolloutctl(['plan', '--config', unreachable, '-f', file, '--json'], {
      timeoutMs: 90_000,
    });
    expect(run.code).toBe(5);
    expect(JSON.parse(run.stderr)).toMatchObject({ error: { message: expect.stringContaining('checkout') } });
    expect(await rawState()).toBe(before);
  });

  it('usage: no request file is exit 2; no configuration is exit 2 naming what is missing', async () => {
    const noFile = await runRolloutctl(['plan', '--config', configFile]);
    expect(noFile.code).toBe(2);
    const file = join(dir, 'ok.json');
    writeFileSync(file, JSON.stringify(requestFor(app('checkout'))));
    const noConfig = await runRolloutctl(['plan', '-f', file, '--project', PROJECT]);
    expect(noConfig.code).toBe(2);
    expect(noConfig.stderr).toContain('ALLOWED_ROUTES');
  });
});
