/**
 * The hostile-input corpus: a seeded generator of inputs for every entry point — the Pub/Sub
 * functions (startRollout, control, onAlert, tick, advanceDue) as the CloudEvents they receive,
 * and the HTTP functions (controlHttp, advanceRollout) as raw requests. Every input is one an
 * attacker or a broken client could send and none is a valid command: each must be refused (or,
 * for the tick, ignored) without a 5xx, a log entry over the cap, or a change of state.
 *
 * Categories: oversized bodies, deep nesting, many unknown keys (up to 100,000), path traversal
 * and unicode tricks in ids, control characters in every string, invalid UTF-8, wrong types,
 * huge strings in every field, text that is not JSON, and broken envelopes or methods.
 */
import { requestInput } from './fixtures.ts';

export const PUBSUB_ENTRIES = ['startRollout', 'control', 'onAlert', 'tick', 'advanceDue'] as const;
export const HTTP_ENTRIES = ['controlHttp', 'advanceRollout'] as const;
export type PubSubEntry = (typeof PUBSUB_ENTRIES)[number];
export type HttpEntry = (typeof HTTP_ENTRIES)[number];
export type Entry = PubSubEntry | HttpEntry;

export const CATEGORIES = [
  'oversized',
  'deep',
  'unknownKeys',
  'pathTraversal',
  'unicodeId',
  'controlChars',
  'invalidUtf8',
  'wrongTypes',
  'hugeStrings',
  'notJson',
  'envelope',
] as const;
export type Category = (typeof CATEGORIES)[number];

export type HostileInput =
  | { readonly entry: PubSubEntry; readonly category: Category; readonly event: unknown }
  | {
      readonly entry: HttpEntry;
      readonly category: Category;
      readonly method: string;
      /** Path and query, e.g. `/?rolloutId=..%2Fx`. */
      readonly path: string;
      readonly contentType: string;
      readonly body: Buffer | null;
    };

/** The alert policy the corpus's incidents name: configured as known, so they reach the alert path. */
export const HOSTILE_POLICY = 'hostile canary 5xx';

/** The rollout the corpus aims at (the test stores it, so a refusal that reads it would show). */
export const VICTIM = 'victim-1';
export const CORPUS_SIZE = 10_500;

/** mulberry32: small, seeded, good enough to spread inputs. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(rand: Rand, items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;

export const BAD_IDS = [
  '../victim-1',
  'victim-1/../victim-1',
  'victim-1/..',
  '..',
  '.',
  '/',
  'victim-1/history/1',
  'rollouts/victim-1',
  '%2e%2e%2fvictim-1',
  'victim-1%00',
  '__victim-1__',
  '__.*__',
  'victim-1\u0000',
  'victim-1\n{"severity":"INFO"}',
  '',
  ' victim-1',
  'VICTIM-1',
  '-victim',
  'a'.repeat(64),
  'victim-1\\..\\x',
] as const;

export const UNICODE_IDS = [
  'vіctim-1', // Cyrillic і
  'ｖｉｃｔｉｍ－１', // fullwidth
  'victim\u200b-1', // zero-width space
  'victim-1\u202e1-mitciv', // right-to-left override
  '\u2066victim-1\u2069',
  'victim\u00ad-1', // soft hyphen
  'victim-1\ufeff',
  'vi\u0307ctim-1', // combining dot
  'victim-1🔥',
  'victim\u0085-1', // C1 next line
  'victim\u2028-1', // line separator
  '\ud800victim', // lone surrogate
] as const;

const CONTROL_CHARS = ['\u0000', '\n', '\r', '\u001b[31m', '\u007f', '\u009b', '\u202e', '\u2067', '\t'];

function templateFor(entry: Entry): Record<string, unknown> {
  switch (entry) {
    case 'startRollout':
      return { ...requestInput(), rolloutId: 'victim-2' } as unknown as Record<string, unknown>;
    case 'control':
    case 'controlHttp':
      return { rolloutId: VICTIM, command: 'pause', actor: 'mallory', reason: 'because' };
    case 'onAlert':
      return {
        version: '1.2',
        incident: {
          incident_id: 'i-1',
          state: 'open',
          policy_name: HOSTILE_POLICY,
          // A well-formed incident names no stored rollout: only its mutations are sent.
          policy_user_labels: { rollout_id: 'nobody-1' },
          summary: 'forged',
        },
      };
    case 'advanceDue':
      return { kind: 'due', rolloutId: VICTIM, version: 1, actor: 'tick', rollout: null };
    case 'advanceRollout':
    case 'tick':
      return { rolloutId: VICTIM, execution: 'e-1' };
  }
}

/** Where a template keeps its rollout id (the alert: in the policy's labels). */
function withId(entry: Entry, template: Record<string, unknown>, id: string): Record<string, unknown> {
  if (entry !== 'onAlert') return { ...template, rolloutId: id };
  const incident = template['incident'] as Record<string, unknown>;
  return { ...template, incident: { ...incident, policy_user_labels: { rollout_id: id } } };
}

/** Every string in `value` mapped by `f` (keys too when `keys`), recursively. */
function mapStrings(value: unknown, f: (s: string) => string): unknown {
  if (typeof value === 'string') return f(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f)]));
}

function deepValue(depth: number, rand: Rand): string {
  const [open, close] = rand() < 0.5 ? ['[', ']'] : ['{"a":', '}'];
  return `${open.repeat(depth)}1${close.repeat(depth)}`;
}

function manyKeys(count: number): string {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(`"k${i}":${i}`);
  return parts.join(',');
}

const WRONG = [42, -1, 1e308, true, null, [], {}, [1, 2], 'x', { $gt: '' }, ['victim-1']];

/** Body text (JSON or not) for one category; `cap` is the entry point's size cap. */
function bodyText(entry: Entry, category: Category, rand: Rand, cap: number): string | Buffer {
  const t = templateFor(entry);
  const json = (v: unknown) => JSON.stringify(v);
  switch (category) {
    case 'oversized': {
      const size = pick(rand, [cap + 1, cap * 2, 1024 * 1024, 8.5 * 1024 * 1024]);
      const filler = pick(rand, ['reason', 'actor', 'junk', 'summary']);
      return json({ ...t, [filler]: 'A'.repeat(Math.ceil(size)) });
    }
    case 'deep': {
      const depth = pick(rand, [20, 100, 1000, 10_000, 50_000]);
      const key = pick(rand, [...Object.keys(t), 'extra']);
      return `${json(t).slice(0, -1)},"${key}x":${deepValue(depth, rand)}}`;
    }
    case 'unknownKeys': {
      const count = pick(rand, [17, 101, 250, 1000, 10_000, 100_000]);
      return `${json(t).slice(0, -1)},${manyKeys(count)}}`;
    }
    case 'pathTraversal':
      return json(withId(entry, t, pick(rand, BAD_IDS)));
    case 'unicodeId':
      return json(withId(entry, t, pick(rand, UNICODE_IDS)));
    case 'controlChars': {
      const c = pick(rand, CONTROL_CHARS);
      return json(mapStrings(t, (s) => (rand() < 0.5 ? `${c}${s}` : `${s}${c}`)));
    }
    case 'invalidUtf8': {
      const bad = pick(rand, [
        [0xff],
        [0xc3, 0x28],
        [0xc0, 0xaf],
        [0xed, 0xa0, 0x80],
        [0xf8, 0x88, 0x80, 0x80],
      ]);
      const [head, tail] = json(withId(entry, t, 'victim-1')).split('victim-1', 2);
      return Buffer.concat([Buffer.from(`${head}victim`), Buffer.from(bad), Buffer.from(`-1${tail ?? ''}`)]);
    }
    case 'wrongTypes': {
      if (rand() < 0.2) return json(pick(rand, WRONG));
      // A value of another type than the field's (a number for a number would be a valid input).
      const key = pick(rand, Object.keys(t));
      const kind = (v: unknown) => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);
      const others = WRONG.filter((w) => w !== null && kind(w) !== kind(t[key]));
      return json({ ...t, [key]: pick(rand, others) });
    }
    case 'hugeStrings': {
      const size = pick(rand, [300, 1024, 5000, 30_000, 200_000]);
      return json(mapStrings(t, (s) => s.repeat(Math.ceil(size / Math.max(1, s.length))).slice(0, size)));
    }
    case 'notJson':
      return pick(rand, [
        '',
        '{',
        '{"rolloutId": "victim-1"',
        'null',
        '<xml/>',
        '\u0000\u0001',
        'rolloutId=victim-1',
        '[1,]',
        'NaN',
        '{"a":1}{"b":2}',
        '\ufeff{}',
      ]);
    case 'envelope':
      // The envelope is what is broken; its body names a traversal id, so even a lenient reading refuses it.
      return json(withId(entry, t, '../victim-1'));
  }
}

/** The size cap the corpus aims around, per entry point (core/request.ts, app/control.ts, …). */
const CAPS: Record<Entry, number> = {
  startRollout: 32 * 1024,
  control: 16 * 1024,
  onAlert: 64 * 1024,
  tick: 256 * 1024,
  advanceDue: 256 * 1024,
  controlHttp: 64 * 1024,
  advanceRollout: 4 * 1024,
};

function pubsubEvent(data: Buffer, id: string, topic: string): Record<string, unknown> {
  return {
    specversion: '1.0',
    id,
    source: `//pubsub.googleapis.com/projects/hostile/topics/${topic}`,
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    data: {
      message: {
        data: data.toString('base64'),
        messageId: id,
        attributes: {},
        publishTime: new Date(0).toISOString(),
      },
    },
  };
}

/** Broken envelopes: no message, data of the wrong type, huge ids and attributes. */
function brokenEnvelope(rand: Rand, data: Buffer, id: string): unknown {
  const variants = [
    () => ({ data: { something: 'else' } }),
    () => ({ data: { message: { data: 42, messageId: id } } }),
    () => ({ data: { message: { data: '!!!not base64!!!', messageId: id } } }),
    () => ({ data: { message: { data: data.toString('base64'), messageId: 'm'.repeat(100_000) } } }),
    () => ({
      data: {
        message: {
          data: data.toString('base64'),
          messageId: id,
          attributes: Object.fromEntries(
            Array.from({ length: 100_000 }, (_, i) => [`a${i}`, 'x'.repeat(10)]),
          ),
        },
      },
    }),
    () => ({ data: { message: { data: 'A'.repeat(12 * 1024 * 1024), messageId: id } } }),
    () => null,
    () => 'not an event',
  ];
  return pick(rand, variants)();
}

/** Percent-encoded; a lone surrogate becomes its (invalid UTF-8) three bytes, as a hostile client may send. */
function queryValue(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return (
      [...Buffer.from(text, 'latin1')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('') +
      '%ED%A0%80'
    );
  }
}

function httpInput(entry: HttpEntry, category: Category, rand: Rand, body: Buffer): HostileInput {
  const post = { entry, category, method: 'POST', path: '/', contentType: 'application/json', body } as const;
  if (category === 'envelope') {
    const variant = pick(rand, ['method', 'type', 'form']);
    if (variant === 'method') return { ...post, method: pick(rand, ['PUT', 'DELETE', 'PATCH']) };
    if (variant === 'type')
      return { ...post, contentType: pick(rand, ['text/plain', 'application/octet-stream']) };
    const form = `a${'[a]'.repeat(50)}=1&${Array.from({ length: 2000 }, (_, i) => `k${i}=v`).join('&')}`;
    return { ...post, contentType: 'application/x-www-form-urlencoded', body: Buffer.from(form) };
  }
  const idCategory = category === 'pathTraversal' || category === 'unicodeId' || category === 'controlChars';
  if (entry === 'controlHttp' && idCategory && rand() < 0.4) {
    const ids =
      category === 'pathTraversal' ? BAD_IDS : category === 'unicodeId' ? UNICODE_IDS : CONTROL_CHARS;
    const id = category === 'controlChars' ? `victim-1${pick(rand, ids)}` : pick(rand, ids);
    const twice = rand() < 0.2 ? `&rolloutId=${VICTIM}` : '';
    return { ...post, method: 'GET', path: `/?rolloutId=${queryValue(id)}${twice}`, body: null };
  }
  return post;
}

/** Input number `index` of the corpus for `seed` (the same pair always gives the same input). */
export function hostileInput(seed: number, index: number, entry?: Entry, category?: Category): HostileInput {
  const rand = prng(seed * 1_000_003 + index);
  const all = [...PUBSUB_ENTRIES, ...HTTP_ENTRIES] as const;
  const e = entry ?? all[index % all.length] ?? 'control';
  const heavy: readonly Category[] = ['oversized', 'unknownKeys', 'deep'];
  // Expensive categories are a small share of the corpus; every category is in every run.
  const c = category ?? (rand() < 0.12 ? pick(rand, heavy) : pick(rand, CATEGORIES));
  const text = bodyText(e, c, rand, CAPS[e]);
  const body = typeof text === 'string' ? Buffer.from(text) : text;
  if (e === 'controlHttp' || e === 'advanceRollout') return httpInput(e, c, rand, body);
  const id = `hostile-${seed}-${index}`;
  const event = c === 'envelope' ? brokenEnvelope(rand, body, id) : pubsubEvent(body, id, e);
  return { entry: e, category: c, event };
}

/** The whole corpus, one input at a time (inputs are built lazily: some are megabytes). */
export function* hostileCorpus(seed: number, size = CORPUS_SIZE): Generator<HostileInput> {
  for (let i = 0; i < size; i++) yield hostileInput(seed, i);
}

/** A representative sample: every (entry point, category) pair, then `extra` seeded inputs. */
export function* hostileSample(seed: number, extra: number): Generator<HostileInput> {
  let index = 0;
  for (const entry of [...PUBSUB_ENTRIES, ...HTTP_ENTRIES])
    for (const category of CATEGORIES) yield hostileInput(seed, index++, entry, category);
  for (let i = 0; i < extra; i++) yield hostileInput(seed, 1_000_000 + i);
}
