/**
 * The production hook caller against real local HTTP servers and the local IAM Credentials
 * stand-in: every way an answer can go, the token a target receives, the retry policy, and the
 * production URL policy refusing private addresses before anything is sent.
 */
import { createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpHookCaller, idempotencyKey } from '../../functions/adapters/http-hook-caller.ts';
import { CachingIdTokenSource, iamCredentialsMinter } from '../../functions/adapters/id-tokens.ts';
import {
  HOOK_ANSWER_MAX_BYTES,
  HOOK_EXCERPT_CHARS,
  type HookBody,
  type HookPoint,
  type HookUrlPolicy,
  type PlanHook,
  PRODUCTION_HOOK_POLICY,
} from '../../functions/core/hooks.ts';
import { DEFAULT_HOOKS_SERVICE_ACCOUNT, type IamServer, startIamServer } from '../../local/iam/server.ts';
import { freePort } from '../../local/net.ts';
import { type HookServer, startHookServer } from '../support/hook-server.ts';

const LOCAL: HookUrlPolicy = { allowHttp: true, allowPrivate: true };

let iam: IamServer;
let target: HookServer;
let sleeps: number[];

beforeAll(async () => {
  iam = await startIamServer();
  target = await startHookServer({ jwksUrl: iam.jwksUrl });
});

afterAll(async () => {
  await target.close();
  await iam.close();
});

beforeEach(() => {
  target.calls.length = 0;
  target.setDefault({});
  sleeps = [];
});

function caller(
  options: {
    policy?: HookUrlPolicy;
    serviceAccount?: string;
    resolve?: (host: string) => Promise<{ address: string; family: number }[]>;
  } = {},
) {
  return new HttpHookCaller({
    policy: options.policy ?? LOCAL,
    tokens: new CachingIdTokenSource(
      iamCredentialsMinter(options.serviceAccount ?? DEFAULT_HOOKS_SERVICE_ACCOUNT, iam.url),
    ),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...(options.resolve ? { resolve: options.resolve } : {}),
  });
}

function hook(overrides: Partial<PlanHook> = {}): PlanHook {
  return {
    name: 'smoke',
    url: target.url,
    method: 'POST',
    timeoutMs: 2000,
    retries: 2,
    failAfterMs: null,
    onFailure: null,
    failureLimit: null,
    ...overrides,
  };
}

function body(kind: HookPoint = 'preStep', step: number | null = 2): Omit<HookBody, 'attempt'> {
  return {
    schemaVersion: 1,
    kind,
    hook: 'smoke',
    rolloutId: 'r-hooks-1',
    phase: 'Progressing',
    step,
    weights: { stable: 90, canary: 10 },
    nextWeights: { stable: 75, canary: 25 },
    route: 'projects/p/locations/global/httpRoutes/shop',
    stable: 'projects/p/locations/global/backendServices/shop-v1',
    canary: 'projects/p/locations/global/backendServices/shop-v2',
  } as Omit<HookBody, 'attempt'>;
}

describe('a call that passes', () => {
  it('POSTs the JSON body with a verified token for the URL origin, and the documented headers', async () => {
    const result = await caller().call(hook(), body());
    expect(result).toMatchObject({
      point: 'preStep',
      hook: 'smoke',
      status: 'passed',
      code: 200,
      attempts: 1,
    });
    expect(result.excerpt).toBe('{"ok":true}');
    const [call] = target.calls;
    expect(call?.method).toBe('POST');
    expect(call?.body).toEqual({ ...body(), attempt: 1 });
    expect(call?.token).toMatchObject({
      present: true,
      verified: true,
      audience: target.origin,
      email: DEFAULT_HOOKS_SERVICE_ACCOUNT,
    });
    expect(call?.headers['content-type']).toBe('application/json');
    expect(call?.headers['user-agent']).toMatch(/canary-controller/);
    expect(call?.headers['x-rollout-id']).toBe('r-hooks-1');
    expect(call?.headers['idempotency-key']).toBe(idempotencyKey(body()));
    expect(JSON.stringify(result)).not.toContain(String(call?.headers.authorization).slice(7));
  });

  it('GET sends no body; PUT sends the body', async () => {
    await caller().call(hook({ method: 'GET' }), body());
    await caller().call(hook({ method: 'PUT' }), body());
    expect(target.calls.map((c) => [c.method, c.text === '', c.headers['content-type']])).toEqual([
      ['GET', true, undefined],
      ['PUT', false, 'application/json'],
    ]);
  });

  it('the idempotency key is stable per rollout, point, hook and step, and differs otherwise', () => {
    expect(idempotencyKey(body())).toBe(idempotencyKey({ ...body() }));
    expect(idempotencyKey(body('preStep', 3))).not.toBe(idempotencyKey(body('preStep', 2)));
    expect(idempotencyKey(body('check', 2))).not.toBe(idempotencyKey(body('preStep', 2)));
  });

  it('mints one token per audience and reuses it', async () => {
    const before = iam.minted.length;
    const c = caller();
    await c.call(hook(), body());
    await c.call(hook(), body());
    expect(iam.minted.slice(before)).toEqual([
      { serviceAccount: DEFAULT_HOOKS_SERVICE_ACCOUNT, audience: target.origin },
    ]);
  });
});

describe('retries', () => {
  it('a 500 is retried with backoff 1 s, 2 s, then reported failed with the last answer', async () => {
    target.setDefault({ status: 500, body: 'database down' });
    const result = await caller().call(hook({ retries: 2 }), body());
    expect(result).toMatchObject({ status: 'failed', code: 500, attempts: 3, excerpt: 'database down' });
    expect(sleeps).toEqual([1000, 2000]);
    expect(target.calls.map((c) => (c.body as HookBody).attempt)).toEqual([1, 2, 3]);
  });

  it('a 503 then a 200 passes on the second attempt; 429 is retried too', async () => {
    target.script({ status: 503 }, { status: 200 });
    expect(await caller().call(hook(), body())).toMatchObject({ status: 'passed', attempts: 2 });
    target.script({ status: 429 }, { status: 204, body: '' });
    expect(await caller().call(hook(), body())).toMatchObject({ status: 'passed', code: 204, attempts: 2 });
  });

  it('a 404 is not retried', async () => {
    target.setDefault({ status: 404, body: 'no such hook' });
    const result = await caller().call(hook({ retries: 3 }), body());
    expect(result).toMatchObject({ status: 'failed', code: 404, attempts: 1, excerpt: 'no such hook' });
    expect(sleeps).toEqual([]);
  });

  it('a redirect is not followed: a 3xx is a failed answer', async () => {
    target.setDefault({ status: 302, headers: { location: `${target.origin}/elsewhere` }, body: 'moved' });
    const result = await caller().call(hook(), body());
    expect(result).toMatchObject({ status: 'failed', code: 302, attempts: 1 });
    expect(target.calls.map((c) => c.path)).toEqual(['/hook']);
  });
});

describe('no answer', () => {
  it('no answer within the timeout: timeout, retried', async () => {
    target.setDefault({ delayMs: 1000 });
    const result = await caller().call(hook({ timeoutMs: 200, retries: 1 }), body());
    expect(result).toMatchObject({ status: 'timeout', code: null, attempts: 2 });
    expect(result.excerpt).toMatch(/200 ms/);
  });

  it('a slow answer (headers in time, body beyond the timeout) is a timeout', async () => {
    target.setDefault({ bodyDelayMs: 1000, body: { result: 'pass' } });
    const result = await caller().call(hook({ timeoutMs: 200, retries: 0 }), body('check'));
    expect(result).toMatchObject({ status: 'timeout', attempts: 1 });
  });

  it('a closed port: unreachable, retried', async () => {
    const port = await freePort();
    const result = await caller().call(hook({ url: `http://127.0.0.1:${port}/hook`, retries: 1 }), body());
    expect(result).toMatchObject({ status: 'unreachable', code: null, attempts: 2 });
    expect(result.excerpt).toMatch(/ECONNREFUSED/);
  });

  it('a connection dropped before any answer: unreachable', async () => {
    target.setDefault({ close: true });
    expect(await caller().call(hook({ retries: 0 }), body())).toMatchObject({ status: 'unreachable' });
  });

  it('a token that cannot be minted: unreachable, nothing sent', async () => {
    const result = await caller({ serviceAccount: 'nobody@demo-project.iam.gserviceaccount.com' }).call(
      hook({ retries: 0 }),
      body(),
    );
    expect(result).toMatchObject({ status: 'unreachable', attempts: 1 });
    expect(result.excerpt).toMatch(/ID token could not be minted/);
    expect(target.calls).toEqual([]);
  });
});

describe('reading the answer', () => {
  it('an answer over the size limit is invalidAnswer, excerpt bounded', async () => {
    target.setDefault({ oversizedBytes: HOOK_ANSWER_MAX_BYTES * 4 });
    const result = await caller().call(hook(), body());
    expect(result).toMatchObject({ status: 'invalidAnswer', code: 200, attempts: 1 });
    expect(result.excerpt.length).toBeLessThanOrEqual(HOOK_EXCERPT_CHARS);
    expect(result.excerpt).toMatch(/size limit/);
  });

  it('a check answering text: the status decides', async () => {
    target.setDefault({ body: 'all good', contentType: 'text/plain' });
    expect(await caller().call(hook(), body('check'))).toMatchObject({
      status: 'passed',
      excerpt: 'all good',
    });
  });

  it('declared JSON that does not parse is invalidAnswer, never a pass', async () => {
    target.setDefault({ body: '{"result": "pa', contentType: 'application/json' });
    const result = await caller().call(hook(), body('check'));
    expect(result).toMatchObject({ status: 'invalidAnswer', code: 200, attempts: 1 });
    expect(result.excerpt).toMatch(/does not parse/);
  });

  it('a check JSON result decides: pass, fail, inconclusive; an unknown result is invalid', async () => {
    const results: string[] = [];
    for (const result of ['pass', 'fail', 'inconclusive', 'maybe']) {
      target.setDefault({ body: { result, requests: 20 } });
      results.push((await caller().call(hook(), body('check'))).status);
    }
    expect(results).toEqual(['passed', 'failed', 'inconclusive', 'invalidAnswer']);
  });

  it('a JSON result on another point does not decide (the status does)', async () => {
    target.setDefault({ body: { result: 'fail' } });
    expect(await caller().call(hook(), body('preStep'))).toMatchObject({ status: 'passed' });
  });

  it('the excerpt drops control characters and is bounded', async () => {
    target.setDefault({ status: 400, body: `bad\u0000\u001b[31mrequest\n${'y'.repeat(2000)}` });
    const result = await caller().call(hook(), body());
    expect(result.excerpt.startsWith('bad [31mrequest y')).toBe(true);
    expect(result.excerpt).toHaveLength(HOOK_EXCERPT_CHARS);
  });

  it('a target echoing the Authorization header does not get the token into the result', async () => {
    target.setDefault({ status: 500, body: 'echo' });
    const c = caller();
    await c.call(hook({ retries: 0 }), body());
    const token = String(target.calls[0]?.headers.authorization).slice('Bearer '.length);
    target.setDefault({ status: 500, body: `you sent Bearer ${token}` });
    const result = await c.call(hook({ retries: 0 }), body());
    expect(result.excerpt).toBe('you sent Bearer [token]');
  });
});

describe('URL policy', () => {
  it('production refuses a name resolving to 127.0.0.1; the server sees nothing', async () => {
    const port = new URL(target.origin).port;
    const result = await caller({
      policy: PRODUCTION_HOOK_POLICY,
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    }).call(hook({ url: `https://hooks.example.com:${port}/hook` }), body());
    expect(result).toMatchObject({ status: 'refused', code: null, attempts: 1 });
    expect(result.excerpt).toMatch(/127\.0\.0\.1/);
    expect(target.calls).toEqual([]);
  });

  it('production refuses when any one of the answers is private (metadata, 10/8, ::ffff:…)', async () => {
    for (const address of ['169.254.169.254', '10.1.2.3', '::ffff:192.168.0.1']) {
      const result = await caller({
        policy: PRODUCTION_HOOK_POLICY,
        resolve: async () => [
          { address: '203.0.113.7', family: 4 },
          { address, family: address.includes(':') ? 6 : 4 },
        ],
      }).call(hook({ url: 'https://hooks.example.com/hook' }), body());
      expect(result.status, address).toBe('refused');
    }
  });

  it('the local policy still refuses a name resolving to the metadata server; the server sees nothing', async () => {
    const port = new URL(target.origin).port;
    const result = await caller({
      resolve: async () => [{ address: '169.254.169.254', family: 4 }],
    }).call(hook({ url: `http://hooks.invalid:${port}/hook` }), body());
    expect(result).toMatchObject({ status: 'refused', code: null, attempts: 1 });
    expect(result.excerpt).toMatch(/metadata server/);
    expect(target.calls).toEqual([]);
  });

  it('production refuses plain http and literal private addresses before resolving', async () => {
    let resolved = 0;
    const c = caller({
      policy: PRODUCTION_HOOK_POLICY,
      resolve: async () => {
        resolved += 1;
        return [{ address: '203.0.113.7', family: 4 }];
      },
    });
    expect((await c.call(hook({ url: target.url }), body())).status).toBe('refused');
    expect((await c.call(hook({ url: 'https://169.254.169.254/' }), body())).status).toBe('refused');
    expect(resolved).toBe(0);
    expect(target.calls).toEqual([]);
  });

  it('the connection goes to the resolved address (no second lookup)', async () => {
    const port = new URL(target.origin).port;
    const result = await caller({ resolve: async () => [{ address: '127.0.0.1', family: 4 }] }).call(
      hook({ url: `http://hooks.invalid:${port}/hook` }),
      body(),
    );
    expect(result.status).toBe('passed');
    expect(target.calls[0]?.headers.host).toBe(`hooks.invalid:${port}`);
    expect(target.calls[0]?.token.audience).toBe(`http://hooks.invalid:${port}`);
  });

  it('an unresolvable host is unreachable', async () => {
    const result = await caller().call(hook({ url: 'http://no-such-host.invalid/hook', retries: 0 }), body());
    expect(result).toMatchObject({ status: 'unreachable', code: null });
    expect(result.excerpt).toMatch(/cannot resolve no-such-host\.invalid/);
  });
});

describe('a server that accepts but never answers', () => {
  it('a listening socket that never answers HTTP times out', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => {
      sockets.push(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const result = await caller().call(
      hook({ url: `http://127.0.0.1:${port}/`, timeoutMs: 150, retries: 0 }),
      body(),
    );
    expect(result.status).toBe('timeout');
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });
});
