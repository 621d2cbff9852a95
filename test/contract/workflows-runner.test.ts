/**
 * workflows/canary-rollout.yaml run by the local Workflows runner against a stand-in for
 * advanceRollout, started and observed through the production adapter — so the adapter and
 * the runner's REST API agree on the wire.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowExecutionsClient } from '../../functions/adapters/workflow-executions.ts';
import { InvalidInputError, RefusedError, TransientError } from '../../functions/errors.ts';
import { freePort } from '../../local/net.ts';
import { startWorkflowsServer, type WorkflowsServer } from '../../local/workflows/server.ts';

const WORKFLOW = 'projects/demo/locations/europe-west1/workflows/canary-rollout';

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

interface Stub {
  readonly url: string;
  readonly calls: { readonly body: unknown; readonly headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

/** Stands in for advanceRollout: answers the n-th call (0-based) with script(n) and records it. */
async function startAdvanceStub(script: (n: number) => Answer): Promise<Stub> {
  const calls: Stub['calls'] = [];
  const port = await freePort();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const answer = script(calls.length);
      calls.push({ body: text === '' ? null : JSON.parse(text), headers: req.headers });
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}/advanceRollout`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls until `done` holds (bounded by a number of attempts, not by wall time assertions). */
async function until<T>(read: () => Promise<T> | T, done: (value: T) => boolean, what: string): Promise<T> {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const value = await read();
    if (done(value)) return value;
    await delay(10);
  }
  throw new Error(`gave up waiting for ${what}`);
}

const progressing = (waitSeconds?: number): Answer => ({
  status: 200,
  body: { done: false, phase: 'Progressing', ...(waitSeconds === undefined ? {} : { waitSeconds }) },
});
const succeeded: Answer = {
  status: 200,
  body: { rolloutId: 'r-1', done: true, phase: 'Succeeded', version: 9, waitSeconds: 0, reason: null },
};
const busy: Answer = {
  status: 503,
  body: { error: { code: 'UNAVAILABLE', message: 'store busy', hint: 'retry' } },
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function runner(
  timeScale: number,
  env: Record<string, string> = {},
  fractionalSleeps = false,
): Promise<{ server: WorkflowsServer; client: WorkflowExecutionsClient }> {
  const server = await startWorkflowsServer({
    port: await freePort(),
    workflows: { 'canary-rollout': 'workflows/canary-rollout.yaml' },
    timeScale,
    env,
    fractionalSleeps,
  });
  cleanups.push(() => server.close());
  return { server, client: new WorkflowExecutionsClient({ rootUrl: server.url }) };
}

async function stub(script: (n: number) => Answer): Promise<Stub> {
  const s = await startAdvanceStub(script);
  cleanups.push(() => s.close());
  return s;
}

describe('canary-rollout.yaml on the local runner, driven through the production adapter', () => {
  it('calls advanceRollout until done, sleeping as told (clamped) and retrying 503s', async () => {
    const script = [
      progressing(30),
      busy,
      busy,
      progressing(0.001), // below the 1 s floor
      progressing(), // no waitSeconds: 60 s
      progressing(999_999), // above the 3600 s ceiling
      succeeded,
    ];
    const advance = await stub((n) => script[n] ?? succeeded);
    const { server, client } = await runner(10_000);

    const name = await client.start(WORKFLOW, { rolloutId: 'r-1', advanceUrl: advance.url });
    expect(name).toMatch(
      /^projects\/demo\/locations\/europe-west1\/workflows\/canary-rollout\/executions\/[-0-9a-f]{36}$/,
    );
    const final = await until(
      () => client.get(name),
      (s) => s.state !== 'ACTIVE',
      'the execution to end',
    );

    expect(final.state).toBe('SUCCEEDED');
    expect(JSON.parse(final.result ?? 'null')).toEqual(succeeded.body);
    expect(advance.calls).toHaveLength(7);
    for (const call of advance.calls) {
      expect(call.body).toEqual({ rolloutId: 'r-1', execution: name });
      expect(call.headers['content-type']).toMatch(/^application\/json/);
      expect(call.headers.authorization).toBeUndefined(); // OIDC sends no token locally
    }
    const details = server.executions.get(name);
    expect(details.argument).toBe(JSON.stringify({ rolloutId: 'r-1', advanceUrl: advance.url }));
    expect(details.sleeps.map((s) => [s.kind, s.seconds])).toEqual([
      ['sleep', 30],
      ['retry', 1],
      ['retry', 1.25],
      ['sleep', 1],
      ['sleep', 60],
      ['sleep', 3600],
    ]);
    expect(details.logs.map((l) => l.json)).toEqual([
      { rolloutId: 'r-1', phase: 'Progressing', waitSeconds: 30 },
      { rolloutId: 'r-1', phase: 'Progressing', waitSeconds: 0.001 },
      { rolloutId: 'r-1', phase: 'Progressing', waitSeconds: null },
      { rolloutId: 'r-1', phase: 'Progressing', waitSeconds: 999_999 },
      { rolloutId: 'r-1', phase: 'Succeeded', waitSeconds: 0 },
    ]);
  });

  it('fails with advanceRollout’s message on a 400, without retrying', async () => {
    const advance = await stub(() => ({
      status: 400,
      body: {
        error: { code: 'INVALID_INPUT', message: 'rolloutId is missing or malformed', hint: 'fix the input' },
      },
    }));
    const { server, client } = await runner(10_000);

    const name = await client.start(WORKFLOW, { rolloutId: 'r-2', advanceUrl: advance.url });
    const final = await until(
      () => client.get(name),
      (s) => s.state !== 'ACTIVE',
      'the execution to end',
    );

    expect(final.state).toBe('FAILED');
    expect(JSON.parse(final.error?.payload ?? 'null')).toEqual({
      message: 'advanceRollout failed for rollout r-2: rolloutId is missing or malformed',
      code: 400,
      hint: 'fix the input',
      rolloutId: 'r-2',
    });
    expect(final.error?.context).toMatch(/rolloutId is missing or malformed\nin step "failed"/);
    expect(advance.calls).toHaveLength(1);
    expect(server.executions.get(name).sleeps).toEqual([]);
  });

  it('gives up after the five retries of http.default_retry on a persistent 503', async () => {
    const advance = await stub(() => busy);
    const { server, client } = await runner(10_000);

    const name = await client.start(WORKFLOW, { rolloutId: 'r-3', advanceUrl: advance.url });
    const final = await until(
      () => client.get(name),
      (s) => s.state !== 'ACTIVE',
      'the execution to end',
    );

    expect(final.state).toBe('FAILED');
    expect(JSON.parse(final.error?.payload ?? 'null')).toMatchObject({
      message: 'advanceRollout failed for rollout r-3: store busy',
      code: 503,
    });
    expect(advance.calls).toHaveLength(6);
    expect(server.executions.get(name).sleeps.map((s) => s.kind)).toEqual(Array(5).fill('retry'));
  });

  it('retries a refused connection, then fails naming the connection failure', async () => {
    const closedPort = await freePort();
    const { client } = await runner(10_000);

    const name = await client.start(WORKFLOW, {
      rolloutId: 'r-4',
      advanceUrl: `http://127.0.0.1:${closedPort}/advanceRollout`,
    });
    const final = await until(
      () => client.get(name),
      (s) => s.state !== 'ACTIVE',
      'the execution to end',
    );

    expect(final.state).toBe('FAILED');
    expect(JSON.parse(final.error?.payload ?? 'null')).toMatchObject({
      message: expect.stringMatching(/^advanceRollout failed for rollout r-4: .*connection failed/),
      code: 0,
    });
  });

  it('cancels a sleeping execution at once (the REST :cancel call); a second cancel is refused', async () => {
    const advance = await stub(() => progressing(3600));
    const { server, client } = await runner(1);

    const name = await client.start(WORKFLOW, { rolloutId: 'r-5', advanceUrl: advance.url });
    await until(
      () => server.executions.get(name),
      (d) => d.sleeps.length === 1,
      'the first sleep',
    );
    const cancel = () => fetch(new URL(`v1/${name}:cancel`, server.url), { method: 'POST', body: '{}' });
    expect((await cancel()).status).toBe(200);

    expect((await client.get(name)).state).toBe('CANCELLED');
    const settled = await server.executions.wait(name, 5_000);
    expect(settled.state).toBe('CANCELLED');
    expect(settled.status.currentSteps).toEqual([{ routine: 'main', step: 'wait' }]);
    const again = await cancel();
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: { status: 'FAILED_PRECONDITION' } });
    expect(advance.calls).toHaveLength(1);
  });

  it('divides sleeps by the time scale: two 60 s stages at scale 600 wait 100 ms each', async () => {
    const script = [progressing(60), progressing(60), succeeded];
    const advance = await stub((n) => script[n] ?? succeeded);
    const { server, client } = await runner(600);

    const name = await client.start(WORKFLOW, { rolloutId: 'r-6', advanceUrl: advance.url });
    const final = await server.executions.wait(name, 30_000);

    expect(final.state).toBe('SUCCEEDED');
    expect(final.sleeps.map((s) => [s.seconds, s.scaledMs])).toEqual([
      [60, 100],
      [60, 100],
    ]);
    for (const s of final.sleeps) expect((s.seconds * 1000) / s.scaledMs).toBe(600);
  });
});

describe('runner options', () => {
  it('passes env to sys.get_env: MIN_WAIT_SECONDS lowers the floor of the sleeps', async () => {
    const script = [progressing(0.001), progressing(0.25), succeeded];
    const advance = await stub((n) => script[n] ?? succeeded);
    const { server, client } = await runner(10_000, { MIN_WAIT_SECONDS: '0.01' }, true);

    const name = await client.start(WORKFLOW, { rolloutId: 'r-7', advanceUrl: advance.url });
    const final = await server.executions.wait(name, 30_000);

    expect(final.state).toBe('SUCCEEDED');
    expect(final.sleeps.map((s) => s.seconds)).toEqual([0.01, 0.25]);
  });

  it('sleeps whole seconds by default: int() of a fractional wait; a fraction fails the execution', async () => {
    const script = [progressing(2.7), succeeded];
    const advance = await stub((n) => script[n] ?? succeeded);
    const { server, client } = await runner(10_000);
    const name = await client.start(WORKFLOW, { rolloutId: 'r-8', advanceUrl: advance.url });
    const final = await server.executions.wait(name, 30_000);
    expect(final.state).toBe('SUCCEEDED');
    expect(final.sleeps.map((s) => s.seconds)).toEqual([2]);

    // MIN_WAIT_SECONDS below 1 on a runner not started for scaled runs: refused, as Google may.
    const fractional = await stub(() => progressing(0.25));
    const strict = await runner(10_000, { MIN_WAIT_SECONDS: '0.01' });
    const failing = await strict.client.start(WORKFLOW, { rolloutId: 'r-9', advanceUrl: fractional.url });
    const failed = await strict.server.executions.wait(failing, 30_000);
    expect(failed.state).toBe('FAILED');
    expect(failed.error?.context).toMatch(/TypeError: sys\.sleep: seconds must be an integer/);
  });

  it('refuses reserved environment variable names and workflows it cannot run', async () => {
    await expect(
      startWorkflowsServer({
        workflows: { 'canary-rollout': 'workflows/canary-rollout.yaml' },
        env: { GOOGLE_X: '1' },
      }),
    ).rejects.toThrow(/must not be empty or start with GOOGLE_ or WORKFLOWS_/);
    const dir = mkdtempSync(join(tmpdir(), 'workflows-'));
    try {
      const file = join(dir, 'fan-out.yaml');
      writeFileSync(file, 'main:\n  steps:\n    - fan:\n        parallel:\n          branches: []\n');
      await expect(startWorkflowsServer({ workflows: { 'fan-out': file } })).rejects.toThrow(
        /fan-out\.yaml: step "fan": "parallel" branches are not supported/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails an execution that exceeds the step limit, reporting the limit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'workflows-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'spin.yaml');
    writeFileSync(file, 'main:\n  steps:\n    - spin:\n        next: spin\n');
    const server = await startWorkflowsServer({
      port: await freePort(),
      workflows: { spin: file },
      stepLimit: 1000,
    });
    cleanups.push(() => server.close());
    const client = new WorkflowExecutionsClient({ rootUrl: server.url });

    const name = await client.start('projects/demo/locations/europe-west1/workflows/spin', {});
    const final = await until(
      () => client.get(name),
      (s) => s.state !== 'ACTIVE',
      'the execution to end',
    );

    expect(final.state).toBe('FAILED');
    expect(JSON.parse(final.error?.payload ?? 'null')).toMatchObject({
      tags: ['ResourceLimitError'],
      limit: 1000,
    });
    expect(final.error?.context).toMatch(/exceeded the limit of 1000 steps/);
    expect(server.executions.get(name).stepCount).toBe(1000);
  });
});

describe('the runner’s Executions REST API and the adapter’s error mapping', () => {
  let server: WorkflowsServer;
  let client: WorkflowExecutionsClient;
  let advance: Stub;

  beforeAll(async () => {
    advance = await startAdvanceStub(() => progressing(3600));
    server = await startWorkflowsServer({
      port: await freePort(),
      workflows: { 'canary-rollout': 'workflows/canary-rollout.yaml' },
    });
    client = new WorkflowExecutionsClient({ rootUrl: server.url });
  });
  afterAll(async () => {
    await server.close();
    await advance.close();
  });

  const post = (path: string, body: unknown) =>
    fetch(new URL(path, server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('answers 404 in Google’s error shape for an unknown workflow or execution', async () => {
    const start = client.start('projects/demo/locations/europe-west1/workflows/unknown', { rolloutId: 'x' });
    await expect(start).rejects.toBeInstanceOf(RefusedError);
    await expect(start).rejects.toMatchObject({ code: 'WORKFLOW_NOT_FOUND', retryable: false });

    const missing = `${WORKFLOW}/executions/00000000-0000-0000-0000-000000000000`;
    await expect(client.get(missing)).rejects.toMatchObject({ code: 'EXECUTION_NOT_FOUND' });
    const raw = await fetch(new URL(`v1/${missing}`, server.url));
    expect(raw.status).toBe(404);
    expect(await raw.json()).toEqual({
      error: { code: 404, message: `Resource '${missing}' was not found`, status: 'NOT_FOUND' },
    });
  });

  it('answers 400 for an argument that is not a JSON string', async () => {
    for (const argument of ['{not json', { rolloutId: 'an object, not a string' }]) {
      const res = await post(`v1/${WORKFLOW}/executions`, { argument });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
    }
  });

  it('lists executions newest first, in pages', async () => {
    const first = await client.start(WORKFLOW, { rolloutId: 'list-1', advanceUrl: advance.url });
    const second = await client.start(WORKFLOW, { rolloutId: 'list-2', advanceUrl: advance.url });
    const res = await fetch(new URL(`v1/${WORKFLOW}/executions?pageSize=1`, server.url));
    const page = (await res.json()) as {
      executions: { name: string; state: string }[];
      nextPageToken?: string;
    };
    expect(page.executions.map((e) => e.name)).toEqual([second]);
    expect(page.nextPageToken).toBe('1');
    const rest = await fetch(new URL(`v1/${WORKFLOW}/executions?pageSize=10&pageToken=1`, server.url));
    const names = ((await rest.json()) as { executions: { name: string }[] }).executions.map((e) => e.name);
    expect(names[0]).toBe(first);
    expect(server.executions.list().map((e) => e.name)).toEqual([second, first]);
  });

  it('maps an unreachable API to TransientError and a malformed name to InvalidInputError', async () => {
    const unreachable = new WorkflowExecutionsClient({ rootUrl: `http://127.0.0.1:${await freePort()}/` });
    await expect(unreachable.start(WORKFLOW, { rolloutId: 'x' })).rejects.toBeInstanceOf(TransientError);
    await expect(client.start('canary-rollout', { rolloutId: 'x' })).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    await expect(client.get(`${WORKFLOW}/executions/`)).rejects.toBeInstanceOf(InvalidInputError);
  });
});
