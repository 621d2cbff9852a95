/**
 * `rolloutctl watch` and `rolloutctl start --watch` run as processes against the whole controller
 * on the local cloud: exit 0 only for Succeeded, 1 for a rollback, 3 for an unknown rollout or a
 * request the controller rejected; plain lines when piped, JSON lines with --json, and redrawn in
 * place in a pseudo-terminal (util-linux `script`).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RolloutRequestInput } from '../../functions/core/request.ts';
import { TOPICS } from '../../functions/manifest.ts';
import { type CliRun, ROLLOUTCTL, runRolloutctl } from '../support/cli.ts';
import { type Stack, startStack } from '../support/stack.ts';

let stack: Stack;
let env: Record<string, string>;
const dir = mkdtempSync(join(tmpdir(), 'rolloutctl-watch-'));
const ESC = '\u001b';

beforeAll(async () => {
  stack = await startStack({ project: 'cli-watch', apps: ['checkout', 'cart', 'search', 'payments'] });
  env = {
    GOOGLE_CLOUD_PROJECT: stack.cloud.project,
    FIRESTORE_EMULATOR_HOST: stack.cloud.firestoreHost,
    PUBSUB_EMULATOR_HOST: stack.cloud.pubsubHost,
  };
});
afterAll(() => stack.stop());

async function started(request: RolloutRequestInput): Promise<string> {
  const id = request.rolloutId ?? '';
  const messageId = await stack.controller.publish(TOPICS.requests, request);
  const rejected = () => stack.rejections.find((e) => e.requestMessageId === messageId);
  await stack
    .waitFor(id, () => true)
    .catch((error: unknown) => {
      throw new Error(`${id} was not created: ${rejected()?.reason ?? String(error)}`);
    });
  return id;
}

function requestFile(name: string, request: RolloutRequestInput): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(request));
  return path;
}

/** rolloutctl in a pseudo-terminal: what the terminal received, and the exit code. */
function inTerminal(args: readonly string[]): Promise<CliRun> {
  const command = [process.execPath, ROLLOUTCTL, ...args].join(' ');
  const child = spawn('/usr/bin/script', ['-qfec', command, '/dev/null'], {
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '',
      METADATA_SERVER_DETECTION: 'none',
      ...env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  child.stdin.end();
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('rolloutctl watch', () => {
  it('follows a rollout to Succeeded in plain lines when piped: exit 0, no escape codes', async () => {
    const app = stack.app('checkout');
    stack.load(app);
    const id = await started(stack.request(app, { rolloutId: 'cli-ok' }));
    const run = await runRolloutctl(['watch', id], { env, timeoutMs: 90_000 });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain(ESC);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(3);
    // One line per change, in version order, then the outcome.
    const versions = lines.slice(0, -1).map((l) => Number(/ cli-ok v(\d+) /.exec(l)?.[1]));
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(versions.length);
    expect(lines.some((l) => l.includes('step 1/2') && l.includes('stable 80% / canary 20%'))).toBe(true);
    expect(lines.at(-1)).toMatch(/^cli-ok Succeeded at stable 0% \/ canary 100%/);
  });

  it('ends with exit 1 when the rollout rolls back; --json prints one parseable object per change', async () => {
    const app = stack.app('cart');
    stack.cloud.backends.get(app.canaryService)?.setBehaviour({ errorRatio: 0.5 });
    stack.load(app);
    const id = await started(
      stack.request(app, {
        rolloutId: 'cli-bad',
        steps: [{ weight: 20, hold: '10m' }],
        analysis: { minRequests: 10 },
      }),
    );
    const run = await runRolloutctl(['watch', id, '--json'], { env, timeoutMs: 90_000 });
    stack.cloud.backends.get(app.canaryService)?.setBehaviour({ errorRatio: 0 });
    expect(run.code).toBe(1);
    const records = run.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const outcome = records.at(-1);
    expect(outcome).toEqual({
      type: 'watch.outcome',
      rolloutId: id,
      outcome: 'RolledBack',
      phase: 'RolledBack',
      version: expect.any(Number),
    });
    const changes = records.slice(0, -1);
    expect(changes.every((c) => c['rolloutId'] === id && typeof c['version'] === 'number')).toBe(true);
    expect(changes.map((c) => c['type'])).toContain('rollout.rolling_back');
    // The judge's verdict or the app's alert, whichever comes first, names why in the reason.
    const rollingBack = changes.find((c) => c['type'] === 'rollout.rolling_back');
    expect(rollingBack?.['reason']).toEqual(expect.stringMatching(/./));
    expect(rollingBack?.['previousPhase']).toBe('Progressing');
  });

  it('redraws in place in a terminal: cursor up, lines erased and written again', async () => {
    const app = stack.app('search');
    stack.load(app);
    const id = await started(stack.request(app, { rolloutId: 'cli-pty' }));
    const run = await inTerminal(['watch', id]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`${ESC}\\[\\d+A`));
    expect(run.stdout).toContain(`${ESC}[2K`);
    expect(run.stdout).not.toContain(`${ESC}[2J`);
    // The block's first line is drawn again on every change, over the same place.
    const headers = run.stdout.split(`${ESC}[2K`).filter((l) => l.startsWith('cli-pty  '));
    expect(headers.length).toBeGreaterThan(2);
    expect(run.stdout).toMatch(/cli-pty Succeeded/);
  });

  it('--all follows every active rollout until interrupted: exit 0', async () => {
    const app = stack.app('search');
    await stack.waitFor('cli-pty', (r) => r.status.phase === 'Succeeded');
    const id = await started(
      // After cli-pty's promotion the route sends everything to its canary: the next release starts there.
      stack.request(app, {
        rolloutId: 'cli-all',
        stable: app.canary,
        canary: app.stable,
        steps: [
          { gate: 'manual', note: 'held' },
          { weight: 10, hold: '1m' },
        ],
      }),
    );
    await stack.waitFor(id, (r) => r.status.phase === 'Paused');
    // runRolloutctl ends it with SIGTERM after the timeout, as Ctrl-C (SIGINT) would.
    const run = await runRolloutctl(['watch', '--all'], { env, timeoutMs: 12_000 });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/ cli-all v\d+ {2}Paused .*rollout\.paused: /);
    expect(run.stdout).not.toContain(ESC);
    // The held rollout does not end: --timeout gives up with exit 6.
    const timedOut = await runRolloutctl(['watch', id, '--timeout', '2s'], { env, timeoutMs: 30_000 });
    expect(timedOut.code).toBe(6);
    expect(timedOut.stdout).toMatch(/ cli-all v\d+ {2}Paused /);
  });

  it('exits 2 without a rollout id or --all, and for a bad duration', async () => {
    expect((await runRolloutctl(['watch'], { env })).code).toBe(2);
    expect((await runRolloutctl(['watch', 'x', '--all'], { env })).code).toBe(2);
    const bad = await runRolloutctl(['watch', 'x', '--timeout', 'soon'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--timeout must be a duration/);
  });

  it('exits 3 for an unknown rollout', async () => {
    const run = await runRolloutctl(['watch', 'no-such-rollout'], { env, timeoutMs: 30_000 });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/no rollout no-such-rollout/);
  });
});

describe('rolloutctl start --watch', () => {
  it('exits 3 with the reason and code when the controller rejects the request, and leaves no subscription', async () => {
    const app = stack.app('payments');
    const outside = `projects/${stack.cloud.project}/locations/global/httpRoutes/not-ours`;
    const file = requestFile('refused', stack.request(app, { rolloutId: 'cli-refused', route: outside }));
    const run = await runRolloutctl(['start', '-f', file, '--watch'], { env, timeoutMs: 60_000 });
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/published rollout request \(message \d+\) for cli-refused/);
    expect(run.stderr).toMatch(/rejected the request \(ROUTE_NOT_ALLOWED\): route .*not-ours is not managed/);
    const [subscriptions] = await stack.controller.pubsub.topic(TOPICS.events).getSubscriptions();
    expect(subscriptions.map((s) => s.name).filter((n) => n.includes('rolloutctl-start-'))).toEqual([]);
  });

  it('does not show another request’s rollout under the same id as its own: SPEC_CONFLICT, exit 3', async () => {
    const app = stack.app('checkout');
    const file = requestFile(
      'conflict',
      stack.request(app, { rolloutId: 'cli-ok', steps: [{ weight: 5, hold: '1m' }] }),
    );
    const run = await runRolloutctl(['start', '-f', file, '--watch', '--json'], { env, timeoutMs: 60_000 });
    expect(run.code).toBe(3);
    const [published, rejected, ...rest] = run.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(published).toMatchObject({ published: true, rolloutId: 'cli-ok' });
    expect(rejected).toMatchObject({
      type: 'rollout.rejected',
      rolloutId: 'cli-ok',
      error: { code: 'SPEC_CONFLICT' },
    });
    expect(rest).toEqual([]);
  });

  it('follows a good request to its outcome: exit 0 when it Succeeded', async () => {
    const app = stack.app('payments');
    stack.load(app);
    const file = requestFile('good', stack.request(app, { rolloutId: 'cli-start-ok' }));
    const run = await runRolloutctl(['start', '-f', file, '--watch'], { env, timeoutMs: 90_000 });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toMatch(/^cli-start-ok Succeeded/);
    // The same request again (a re-run CI job) is a repeat, not a conflict: its rollout is followed.
    const again = await runRolloutctl(['start', '-f', file, '--watch'], { env, timeoutMs: 60_000 });
    expect(again.code).toBe(0);
    expect(again.stdout.trimEnd().split('\n').at(-1)).toMatch(/^cli-start-ok Succeeded/);
  });
});
