/** The local runner's http.* calls against a real local HTTP server. */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/net.ts';
import { WorkflowRaise } from '../../local/workflows/errors.ts';
import { runWorkflow } from '../../local/workflows/interpreter.ts';
import { loadWorkflowText } from '../../local/workflows/load.ts';
import type { Value } from '../../local/workflows/values.ts';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

let server: Server;
let base: string;
const seen: Seen[] = [];

beforeAll(async () => {
  const port = await freePort();
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/json') {
        res.writeHead(200, { 'content-type': 'application/json', 'x-answer': 'yes' });
        res.end(JSON.stringify({ ok: true, n: [1, 2] }));
      } else if (path === '/text') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('plain words');
      } else if (path === '/missing') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'no such thing' } }));
      } else if (path === '/slow') {
        setTimeout(() => {
          res.writeHead(200);
          res.end();
        }, 3000).unref();
      } else {
        res.writeHead(204);
        res.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function call(step: string): Promise<Value> {
  const yaml = `main:\n  params: [base]\n  steps:\n${step.replace(/^/gm, '    ')}\n    - out:\n        return: \${r}\n`;
  return runWorkflow(loadWorkflowText(yaml), base);
}

async function raised(step: string): Promise<Value> {
  try {
    await call(step);
  } catch (error) {
    if (error instanceof WorkflowRaise) return error.value;
    throw error;
  }
  throw new Error('nothing raised');
}

describe('http.* in the local runner', () => {
  it('sends query and headers and decodes a JSON answer into {code, headers, body}', async () => {
    const r = await call(`- get:
    call: http.get
    args:
      url: \${base + "/json"}
      query: {q: "a b", n: 2, many: [x, y]}
      headers: {X-Trace: abc}
      auth: {type: OIDC}
    result: r`);
    expect(r).toMatchObject({ code: 200, body: { ok: true, n: [1, 2] }, headers: { 'x-answer': 'yes' } });
    const request = seen.at(-1);
    expect(request?.method).toBe('GET');
    expect(request?.url).toBe('/json?q=a+b&n=2&many=x&many=y');
    expect(request?.headers['x-trace']).toBe('abc');
    expect(request?.headers.authorization).toBeUndefined();
  });

  it('JSON-encodes a body, sends a string body as-is under another content type, keeps text answers as strings', async () => {
    await call(`- post:
    call: http.post
    args:
      url: \${base + "/json"}
      body: {rolloutId: r-1, n: 1}
    result: r`);
    expect(seen.at(-1)?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(seen.at(-1)?.body ?? '')).toEqual({ rolloutId: 'r-1', n: 1 });

    const r = await call(`- put:
    call: http.request
    args:
      method: PUT
      url: \${base + "/text"}
      headers: {Content-Type: text/plain}
      body: raw text
    result: r`);
    expect(seen.at(-1)?.method).toBe('PUT');
    expect(seen.at(-1)?.body).toBe('raw text');
    expect(r).toMatchObject({ code: 200, body: 'plain words' });
  });

  it('raises an HttpError map for a non-2xx answer', async () => {
    const e = await raised(`- get:
    call: http.get
    args: {url: '\${base + "/missing"}'}
    result: r`);
    expect(e).toMatchObject({
      code: 404,
      tags: ['HttpError'],
      message: 'HTTP server responded with error code 404',
      body: { error: { message: 'no such thing' } },
      headers: { 'content-type': 'application/json' },
    });
  });

  it('raises ConnectionFailedError when nothing listens and TimeoutError when the answer is late', async () => {
    const closed = await freePort();
    const refused = await raised(`- get:
    call: http.get
    args: {url: "http://127.0.0.1:${closed}/"}
    result: r`);
    expect(refused).toMatchObject({ tags: ['ConnectionFailedError'] });

    const late = await raised(`- get:
    call: http.get
    args: {url: '\${base + "/slow"}', timeout: 0.2}
    result: r`);
    expect(late).toMatchObject({ tags: ['TimeoutError'] });
  });

  it('rejects an unknown auth type', async () => {
    const e = await raised(`- get:
    call: http.get
    args: {url: '\${base + "/json"}', auth: {type: Basic}}
    result: r`);
    expect(e).toMatchObject({ tags: ['ValueError'] });
  });
});
