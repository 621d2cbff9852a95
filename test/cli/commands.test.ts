/**
 * rolloutctl's existing commands run as processes against the Firestore and Pub/Sub emulators:
 * help and usage errors, validate, start, status, list, the operator commands, history, a missing
 * project and an unreachable cloud. Every bad input leaves Firestore byte-for-byte as it was and
 * publishes nothing (a marker published afterwards is the only message that arrives).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Firestore } from '@google-cloud/firestore';
import { type Message, PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FirestoreRolloutStore } from '../../functions/adapters/firestore-store.ts';
import { parseRolloutRequest } from '../../functions/core/request.ts';
import { transition } from '../../functions/core/transition.ts';
import { TOPICS } from '../../functions/manifest.ts';
import { type CliRun, runRolloutctl } from '../support/cli.ts';
import { observed } from '../support/drive.ts';
import { testFirestore } from '../support/firestore.ts';
import { grpcRouteName, newRelease, newRollout, requestInput, routeName } from '../support/fixtures.ts';

const PROJECT = 'cli-commands';
const fs = testFirestore(PROJECT);
const store = new FirestoreRolloutStore(fs.db);
const env = {
  FIRESTORE_EMULATOR_HOST: fs.host,
  PUBSUB_EMULATOR_HOST: inject('pubsubHost'),
  GOOGLE_CLOUD_PROJECT: PROJECT,
};
const cli = (args: readonly string[], extra: Record<string, string> = {}): Promise<CliRun> =>
  runRolloutctl(args, { env: { ...env, ...extra }, cwd: dir, timeoutMs: 90_000 });

let dir: string;
let pubsub: PubSub;
/** Messages received per topic, in arrival order. */
const received: Record<string, Message[]> = { [TOPICS.requests]: [], [TOPICS.control]: [] };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, check: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Waits for the message with this id on `topic` and returns its JSON body. */
async function messageBody(topic: string, messageId: string): Promise<unknown> {
  const m = await until(`message ${messageId} on ${topic}`, () =>
    received[topic]?.find((x) => x.id === messageId),
  );
  return JSON.parse(m.data.toString('utf8')) as unknown;
}

/**
 * Asserts nothing reached `topic` since `before` messages: publishes a marker and checks it is the
 * only message that arrives after them (Pub/Sub delivers what was published before it, too).
 */
async function expectNothingPublished(topic: string, before: number): Promise<void> {
  const marker = await pubsub.topic(topic).publishMessage({ json: { marker: true } });
  await until(`marker on ${topic}`, () => received[topic]?.find((x) => x.id === marker));
  await sleep(300);
  expect((received[topic] ?? []).slice(before).map((m) => m.id)).toEqual([marker]);
}

/** Every document of a project, with its update time: what "nothing changed" is compared on. */
async function dump(db: Firestore): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (collections: Awaited<ReturnType<Firestore['listCollections']>>): Promise<void> => {
    for (const c of collections) {
      for (const ref of await c.listDocuments()) {
        const snap = await ref.get();
        if (snap.exists) out[ref.path] = `${snap.updateTime?.toMillis()} ${JSON.stringify(snap.data())}`;
        await walk(await ref.listCollections());
      }
    }
  };
  await walk(await db.listCollections());
  return out;
}

/** Runs `work` and asserts Firestore is byte-for-byte the same afterwards and nothing was published. */
async function unchanged(work: () => Promise<void>): Promise<void> {
  const before = await dump(fs.db);
  const counts = {
    requests: received[TOPICS.requests]?.length ?? 0,
    control: received[TOPICS.control]?.length ?? 0,
  };
  await work();
  expect(await dump(fs.db)).toEqual(before);
  await expectNothingPublished(TOPICS.requests, counts.requests);
  await expectNothingPublished(TOPICS.control, counts.control);
}

function json(run: CliRun): Record<string, unknown> {
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rolloutctl-'));
  await fs.clear();
  process.env['PUBSUB_EMULATOR_HOST'] = inject('pubsubHost');
  pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: inject('pubsubHost') });
  for (const topic of [TOPICS.requests, TOPICS.control]) {
    const [exists] = await pubsub.topic(topic).exists();
    if (!exists) await pubsub.createTopic(topic);
    const name = `cli-test-${topic}`;
    const [subExists] = await pubsub.subscription(name).exists();
    if (subExists) await pubsub.subscription(name).delete();
    const [sub] = await pubsub.topic(topic).createSubscription(name);
    sub.on('message', (m: Message) => {
      received[topic]?.push(m);
      m.ack();
    });
  }
  const good = requestInput({ rolloutId: 'cli-start-1' });
  await writeFile(join(dir, 'good.json'), JSON.stringify(good, null, 2));
  await writeFile(join(dir, 'malformed.json'), '{"route": "projects/p/locations/global/httpRoutes/x", ');
  await writeFile(
    join(dir, 'bad-field.json'),
    JSON.stringify({ ...good, steps: [{ weight: 140, hold: '1m' }] }),
  );
  // A month old, so it is the oldest in the history tests below.
  const active = newRollout('cli-active', { route: routeName('cli-checkout') }, Date.now() - 30 * 86_400_000);
  await store.create(active.rollout, active.entry);
});

afterAll(async () => {
  for (const topic of [TOPICS.requests, TOPICS.control])
    await pubsub.subscription(`cli-test-${topic}`).close();
  await pubsub.close();
  await fs.close();
  await rm(dir, { recursive: true, force: true });
});

describe('rolloutctl help and usage', () => {
  it('prints the overview with --help (0) and without a command (2)', async () => {
    const [help, bare] = await Promise.all([cli(['--help']), cli([])]);
    expect(help.code).toBe(0);
    for (const name of [
      'validate',
      'start',
      'status',
      'list',
      'history',
      'pause|resume|promote|abort|retry',
    ]) {
      expect(help.stdout).toContain(`  ${name}`);
    }
    expect(bare.code).toBe(2);
    expect(bare.stdout).toContain('usage: rolloutctl COMMAND');
  });

  it('prints each command’s own help with exit 0', async () => {
    const names = ['validate', 'start', 'status', 'list', 'history', 'pause', 'abort'];
    const runs = await Promise.all(names.map((n) => cli([n, '--help'])));
    for (const [i, run] of runs.entries()) {
      const name = names[i] ?? '';
      expect(run.code, name).toBe(0);
      const usage = name === 'pause' || name === 'abort' ? 'pause|resume|promote|abort|retry' : name;
      expect(run.stdout, name).toMatch(new RegExp(`^usage: rolloutctl ${usage.replaceAll('|', '\\|')}`));
    }
  });

  it('refuses an unknown command or option with exit 2, changing nothing', async () => {
    await unchanged(async () => {
      const [command, option, missing] = await Promise.all([
        cli(['frobnicate']),
        cli(['status', 'cli-active', '--bogus']),
        cli(['status']),
      ]);
      expect(command.code).toBe(2);
      expect(command.stderr).toContain('unknown command frobnicate');
      expect(option.code).toBe(2);
      expect(option.stderr).toMatch(/--bogus/);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('status needs a rollout id');
    });
  });

  it('names --project and GOOGLE_CLOUD_PROJECT when no project is given (2), changing nothing', async () => {
    await unchanged(async () => {
      const [status, start] = await Promise.all([
        cli(['status', 'cli-active'], { GOOGLE_CLOUD_PROJECT: '' }),
        cli(['start', '-f', 'good.json', '--json'], { GOOGLE_CLOUD_PROJECT: '' }),
      ]);
      for (const run of [status, start]) {
        expect(run.code).toBe(2);
        expect(run.stderr).toMatch(/--project/);
        expect(run.stderr).toMatch(/GOOGLE_CLOUD_PROJECT/);
      }
      expect(JSON.parse(start.stderr)).toMatchObject({ error: { code: 'USAGE' } });
    });
  });
});

describe('rolloutctl validate and start', () => {
  it('validates a good request: exit 0 and {valid, steps, routes}', async () => {
    const run = await cli(['validate', '-f', 'good.json', '--json']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(json(run)).toEqual({ valid: true, steps: 2, routes: [routeName()] });
    // Offline: no project, no emulator; the request can come on stdin.
    const text = await runRolloutctl(['validate', '-f', '-'], {
      input: JSON.stringify(requestInput()),
      timeoutMs: 60_000,
    });
    expect(text).toMatchObject({ code: 0, stdout: `valid: 2 steps on ${routeName()}\n` });
  });

  it('refuses a malformed file and a bad field with exit 3 naming it, publishing nothing', async () => {
    await unchanged(async () => {
      const [malformed, badField, startBad] = await Promise.all([
        cli(['validate', '-f', 'malformed.json']),
        cli(['validate', '-f', 'bad-field.json', '--json']),
        cli(['start', '-f', 'bad-field.json', '--json']),
      ]);
      expect(malformed.code).toBe(3);
      expect(malformed.stderr).toMatch(/JSON/i);
      for (const run of [badField, startBad]) {
        expect(run.code).toBe(3);
        expect(run.stdout).toBe('');
        const error = (JSON.parse(run.stderr) as { error: { code: string; problems: { field: string }[] } })
          .error;
        expect(error.code).toBe('INVALID_REQUEST');
        expect(error.problems.map((p) => p.field)).toContain('steps[0].weight');
      }
    });
  });

  it('start publishes exactly the validated request to rollout-requests: {published, messageId, rolloutId}', async () => {
    const before = received[TOPICS.requests]?.length ?? 0;
    const run = await cli(['start', '-f', 'good.json', '--json']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const out = json(run);
    expect(out).toEqual({ published: true, messageId: expect.any(String), rolloutId: 'cli-start-1' });
    const parsed = parseRolloutRequest(JSON.stringify(requestInput({ rolloutId: 'cli-start-1' })));
    if (!parsed.ok) throw new Error('fixture');
    expect(await messageBody(TOPICS.requests, String(out['messageId']))).toEqual(parsed.value);
    await sleep(300);
    expect(received[TOPICS.requests]?.length).toBe(before + 1);
  });
});

describe('rolloutctl status and list', () => {
  it('shows a rollout as text and as {rollout, history, targets}', async () => {
    const [text, asJson] = await Promise.all([
      cli(['status', 'cli-active']),
      cli(['status', 'cli-active', '--json']),
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^cli-active {2}Pending /);
    expect(text.stdout).toContain(`route  HTTPRoute ${routeName('cli-checkout')}  stable 100% / canary 0%`);
    expect(text.stdout).toContain('rollout.created');
    expect(asJson.code).toBe(0);
    const status = json(asJson) as {
      rollout: { id: string; version: number; status: { phase: string } };
      history: { version: number; event: string }[];
      targets: { route: string; kind: string }[];
    };
    expect(status.rollout).toMatchObject({ id: 'cli-active', version: 1, status: { phase: 'Pending' } });
    expect(status.rollout).not.toHaveProperty('routes');
    expect(status.history.map((h) => h.event)).toEqual(['rollout.created']);
    expect(status.targets).toEqual([
      expect.objectContaining({ route: routeName('cli-checkout'), kind: 'HTTPRoute' }),
    ]);
  });

  it('refuses an unknown rollout with exit 3, changing nothing', async () => {
    await unchanged(async () => {
      const [text, asJson] = await Promise.all([
        cli(['status', 'no-such']),
        cli(['status', 'no-such', '--json']),
      ]);
      expect(text.code).toBe(3);
      expect(text.stderr).toContain('no rollout no-such');
      expect(asJson.code).toBe(3);
      expect(JSON.parse(asJson.stderr)).toMatchObject({ error: { code: 'ROLLOUT_NOT_FOUND' } });
    });
  });

  it('lists the active rollouts: text and {active}', async () => {
    const [text, asJson] = await Promise.all([cli(['list']), cli(['list', '--json'])]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`cli-active  ${routeName('cli-checkout')}  canary checkout-canary`);
    expect(json(asJson)).toEqual({
      active: [expect.objectContaining({ rolloutId: 'cli-active', routes: [routeName('cli-checkout')] })],
    });
  });
});

describe('rolloutctl pause, resume, promote, abort, retry', () => {
  it('publishes each command to rollout-control: {published, command, rolloutId, messageId}', async () => {
    for (const command of ['pause', 'resume', 'promote', 'abort', 'retry']) {
      const run = await cli([
        command,
        'cli-active',
        '--reason',
        `why ${command}`,
        '--actor',
        'ann',
        '--json',
      ]);
      expect(run.code, run.stderr).toBe(0);
      const out = json(run);
      expect(out).toEqual({
        published: true,
        command,
        rolloutId: 'cli-active',
        messageId: expect.any(String),
      });
      expect(await messageBody(TOPICS.control, String(out['messageId']))).toEqual({
        rolloutId: 'cli-active',
        command,
        actor: 'ann',
        reason: `why ${command}`,
      });
    }
    const gradual = await cli(['abort', 'cli-active', '--gradual', '--hold', '1m', '--actor', 'ann']);
    expect(gradual.code).toBe(0);
    const id = /message (\S+)\)/.exec(gradual.stdout)?.[1] ?? '';
    expect(await messageBody(TOPICS.control, id)).toMatchObject({
      command: 'abort',
      gradual: true,
      hold: '1m',
    });
  });

  it('refuses a malformed command with exit 3 naming the field, publishing nothing', async () => {
    await unchanged(async () => {
      const [hold, id] = await Promise.all([
        cli(['abort', 'cli-active', '--hold', '5m', '--json']),
        cli(['pause', 'Not_An_Id', '--json']),
      ]);
      expect(hold.code).toBe(3);
      expect(JSON.parse(hold.stderr)).toMatchObject({
        error: { code: 'INVALID_COMMAND', problems: [expect.objectContaining({ field: 'hold' })] },
      });
      expect(id.code).toBe(3);
      expect(JSON.parse(id.stderr)).toMatchObject({
        error: { problems: [expect.objectContaining({ field: 'rolloutId' })] },
      });
    });
  });
});

describe('rolloutctl against a cloud it cannot reach', () => {
  it('exits 5 within the deadline when Firestore or Pub/Sub does not answer, changing nothing', async () => {
    const port = await closedPort();
    const unreachable = { ROLLOUTCTL_DEADLINE: '2s' };
    await unchanged(async () => {
      const started = Date.now();
      const [status, pause] = await Promise.all([
        cli(['status', 'cli-active', '--json'], {
          ...unreachable,
          FIRESTORE_EMULATOR_HOST: `127.0.0.1:${port}`,
        }),
        cli(['pause', 'cli-active'], { ...unreachable, PUBSUB_EMULATOR_HOST: `127.0.0.1:${port}` }),
      ]);
      // Well under the client libraries' own 50-60 s of retries (node's start-up included).
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(status.code).toBe(5);
      expect(JSON.parse(status.stderr)).toMatchObject({ error: { code: 'DEADLINE_EXCEEDED' } });
      expect(pause.code).toBe(5);
      expect(pause.stderr).toMatch(/Pub\/Sub .* did not answer within 2 s/);
    });
  });

  it('refuses a malformed ROLLOUTCTL_DEADLINE as usage (2)', async () => {
    const run = await cli(['status', 'cli-active'], { ROLLOUTCTL_DEADLINE: 'soon' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('ROLLOUTCTL_DEADLINE');
  });
});

describe('rolloutctl history', () => {
  const HOUR = 3_600_000;
  const DAY = 24 * HOUR;
  const WEB = routeName('cli-web');
  const WEB_GRPC = grpcRouteName('cli-web-grpc');
  /** Newest first, by age; cli-active (created by the fixture at a fixed date in 2026-11) is oldest. */
  const NEWEST_FIRST = ['hist-1h', 'hist-release', 'hist-3d', 'hist-5d', 'hist-10d', 'cli-active'];

  beforeAll(async () => {
    const now = Date.now();
    for (const [id, age] of [
      ['hist-10d', 10 * DAY],
      ['hist-5d', 5 * DAY],
      ['hist-3d', 3 * DAY],
      ['hist-1h', HOUR],
    ] as const) {
      const { rollout, entry } = newRollout(id, { route: routeName(`cli-${id}`) }, now - age);
      await store.create(rollout, entry);
    }
    const release = newRelease('hist-release', [WEB, WEB_GRPC], {}, now - 2 * DAY);
    await store.create(release.rollout, release.entry);
    // hist-5d ends: aborted, then rolled back to stable.
    const r =
      (await store.get('hist-5d')) ??
      (() => {
        throw new Error('hist-5d');
      })();
    const abort = transition(
      r,
      { type: 'control', command: 'abort', actor: 'operator:ann', note: 'bad canary' },
      now - 5 * DAY + HOUR,
    );
    if (abort.kind !== 'changed') throw new Error(abort.reason);
    await store.commit(abort.rollout, abort.entry);
    const done = transition(abort.rollout, observed(abort.rollout), now - 5 * DAY + 2 * HOUR);
    if (done.kind !== 'changed') throw new Error(done.reason);
    await store.commit(done.rollout, done.entry);
  });

  it('lists every rollout newest first, finished ones too, paged by the token it prints', async () => {
    const ids: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const args = ['history', '--limit', '4', '--json', ...(token === null ? [] : ['--page-token', token])];
      const run = await cli(args);
      expect(run.code, run.stderr).toBe(0);
      const page = json(run) as { rollouts: { id: string }[]; nextPageToken: string | null };
      ids.push(...page.rollouts.map((s) => s.id));
      token = page.nextPageToken;
      pages += 1;
    } while (token !== null && pages < 10);
    expect(ids).toEqual(NEWEST_FIRST);
    expect(pages).toBe(2);
  });

  it('prints one line per rollout and the next page, and the summary shape with --json', async () => {
    const [text, asJson] = await Promise.all([
      cli(['history', '--limit', '3', '--since', '6d']),
      cli(['history', '--route', routeName('cli-hist-5d'), '--json']),
    ]);
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(
      /^hist-1h {2}Pending {2}cli-hist-1h {2}canary checkout-canary {2}created \S+Z {2}updated \S+Z {2}\d+min {2}rollout of /,
    );
    expect(lines[1]).toMatch(/^hist-release {2}Pending {2}cli-web,cli-web-grpc /);
    expect(lines[3]).toMatch(/^next page: --page-token h1\.\S+$/);
    const summary = (json(asJson) as { rollouts: Record<string, unknown>[]; nextPageToken: null }).rollouts;
    expect(json(asJson)['nextPageToken']).toBeNull();
    expect(summary).toEqual([
      {
        id: 'hist-5d',
        phase: 'Aborted',
        finished: true,
        routes: [routeName('cli-hist-5d')],
        stable: expect.stringMatching(/checkout-stable$/),
        canary: expect.stringMatching(/checkout-canary$/),
        createdAt: expect.any(Number),
        updatedAt: expect.any(Number),
        endedAt: expect.any(Number),
        durationMs: 2 * HOUR,
        attempt: 1,
        retryOf: null,
        lastEvent: expect.any(String),
        lastReason: expect.any(String),
      },
    ]);
  });

  it('filters by any route of a release and by --since (a span or a date)', async () => {
    const ids = async (args: string[]) => {
      const run = await cli(['history', '--json', ...args]);
      expect(run.code, run.stderr).toBe(0);
      return (json(run) as { rollouts: { id: string }[] }).rollouts.map((s) => s.id);
    };
    const since = new Date(Date.now() - 4 * DAY).toISOString();
    const [web, grpc, span, date, both] = await Promise.all([
      ids(['--route', WEB]),
      ids(['--route', WEB_GRPC]),
      ids(['--since', '4d']),
      ids(['--since', since]),
      ids(['--route', WEB_GRPC, '--since', '1d']),
    ]);
    expect(web).toEqual(['hist-release']);
    expect(grpc).toEqual(['hist-release']);
    expect(span).toEqual(['hist-1h', 'hist-release', 'hist-3d']);
    expect(date).toEqual(span);
    expect(both).toEqual([]);
  });

  it('refuses a bad --since or --limit (2) and a bad --page-token (3), changing nothing', async () => {
    await unchanged(async () => {
      const [since, limit, token] = await Promise.all([
        cli(['history', '--since', 'last tuesday']),
        cli(['history', '--limit', '0']),
        cli(['history', '--page-token', 'h1.bm90IGEgdG9rZW4', '--json']),
      ]);
      expect(since.code).toBe(2);
      expect(since.stderr).toContain('--since');
      expect(limit.code).toBe(2);
      expect(limit.stderr).toContain('--limit');
      expect(token.code).toBe(3);
      expect(JSON.parse(token.stderr)).toMatchObject({ error: { code: 'INVALID_PAGE_TOKEN' } });
    });
  });
});
