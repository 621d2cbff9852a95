/**
 * The subset of the Logging query language infra/observability.tf writes, evaluated against log
 * entries as Cloud Logging makes them from a function's stdout line (severity lifted out, the
 * rest in jsonPayload, the Cloud Run resource):
 *
 *   filter     := comparison (AND comparison)*
 *   comparison := path "=" (string | "(" string (OR string)* ")")
 *              |  path ":" (string | "*")
 *   path       := NAME ("." NAME)*      e.g. resource.labels.service_name, jsonPayload.rollout.event
 *
 * `=` is equality with the field's value as text; `:` is the has operator (case-insensitive
 * substring), `:*` that the field is present. A missing field matches nothing. Anything else
 * (NOT, a bare OR, other operators, unquoted values, functions) throws: a filter this cannot
 * read fails the test instead of passing it.
 */

export interface LogEntry {
  readonly resource: { readonly type: string; readonly labels: Readonly<Record<string, string>> };
  readonly severity: string;
  readonly jsonPayload: Readonly<Record<string, unknown>>;
}

type Comparison =
  | { readonly path: readonly string[]; readonly op: '='; readonly values: readonly string[] }
  | { readonly path: readonly string[]; readonly op: ':'; readonly value: string | null };

type Token = { readonly kind: 'name' | 'string' | 'symbol'; readonly text: string; readonly at: number };

const NAME = /[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/y;

function quoted(text: string, at: number): { value: string; next: number } {
  let value = '';
  for (let i = at + 1; i < text.length; i += 1) {
    const c = text[i];
    if (c === '"') return { value, next: i + 1 };
    if (c === '\\') {
      i += 1;
      value += text[i] ?? '';
    } else {
      value += c;
    }
  }
  throw new Error(`unclosed string at ${at} in ${text}`);
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === '"') {
      const { value, next } = quoted(text, i);
      tokens.push({ kind: 'string', text: value, at: i });
      i = next;
    } else if ('=:()*'.includes(c)) {
      tokens.push({ kind: 'symbol', text: c, at: i });
      i += 1;
    } else {
      NAME.lastIndex = i;
      const name = NAME.exec(text);
      if (name === null) throw new Error(`unsupported character '${c}' at ${i} in: ${text}`);
      tokens.push({ kind: 'name', text: name[0], at: i });
      i += name[0].length;
    }
  }
  return tokens;
}

class Reader {
  #i = 0;
  readonly tokens: readonly Token[];
  readonly text: string;

  constructor(tokens: readonly Token[], text: string) {
    this.tokens = tokens;
    this.text = text;
  }

  peek(): Token | undefined {
    return this.tokens[this.#i];
  }

  take(kind: Token['kind'], text?: string): Token {
    const t = this.tokens[this.#i];
    if (t === undefined || t.kind !== kind || (text !== undefined && t.text !== text)) {
      const found = t === undefined ? 'the end' : `'${t.text}' at ${t.at}`;
      throw new Error(`unsupported filter: expected ${text ?? kind}, found ${found} in: ${this.text}`);
    }
    this.#i += 1;
    return t;
  }
}

function comparison(r: Reader): Comparison {
  const path = r.take('name').text.split('.');
  if (['AND', 'OR', 'NOT'].includes(path[0] ?? '')) throw new Error(`unsupported filter: ${r.text}`);
  const op = r.take('symbol');
  if (op.text === ':') {
    if (r.peek()?.text === '*' && r.peek()?.kind === 'symbol') {
      r.take('symbol', '*');
      return { path, op: ':', value: null };
    }
    return { path, op: ':', value: r.take('string').text };
  }
  if (op.text !== '=') throw new Error(`unsupported operator '${op.text}' at ${op.at} in: ${r.text}`);
  if (r.peek()?.kind !== 'symbol') return { path, op: '=', values: [r.take('string').text] };
  r.take('symbol', '(');
  const values = [r.take('string').text];
  while (r.peek()?.text === 'OR' && r.peek()?.kind === 'name') {
    r.take('name', 'OR');
    values.push(r.take('string').text);
  }
  r.take('symbol', ')');
  return { path, op: '=', values };
}

export function parseLoggingFilter(text: string): readonly Comparison[] {
  const r = new Reader(tokenize(text), text);
  const all = [comparison(r)];
  while (r.peek() !== undefined) {
    r.take('name', 'AND');
    all.push(comparison(r));
  }
  return all;
}

/** The value at a dotted path of the entry (undefined when any part is missing). */
export function fieldOf(entry: LogEntry, path: readonly string[]): unknown {
  let value: unknown = entry;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function holds(c: Comparison, entry: LogEntry): boolean {
  const value = fieldOf(entry, c.path);
  if (value === undefined || value === null) return false;
  if (c.op === ':' && c.value === null) return true;
  if (typeof value === 'object') return false;
  const text = String(value);
  if (c.op === '=') return c.values.includes(text);
  return text.toLowerCase().includes((c.value ?? '').toLowerCase());
}

export function matches(filter: string, entry: LogEntry): boolean {
  return parseLoggingFilter(filter).every((c) => holds(c, entry));
}

/** The field an `EXTRACT(path)` extractor names; any other extractor throws. */
export function extractedPath(extractor: string): readonly string[] {
  const m = /^EXTRACT\(([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\)$/.exec(extractor);
  if (m === null) throw new Error(`unsupported extractor: ${extractor}`);
  return (m[1] ?? '').split('.');
}

/** A function's stdout line as Cloud Logging stores it for a Cloud Run service. */
export function entryOf(line: string, service: string): LogEntry {
  const parsed = JSON.parse(line) as Record<string, unknown>;
  const { severity, ...payload } = parsed;
  return {
    resource: { type: 'cloud_run_revision', labels: { service_name: service, location: 'europe-west1' } },
    severity: typeof severity === 'string' ? severity : 'DEFAULT',
    jsonPayload: payload,
  };
}
