/**
 * The subset of the Monitoring filter language the local server understands:
 *
 *   filter    := condition (AND condition)*
 *   condition := selector ("=" | "!=") value
 *   selector  := metric.type | resource.type | resource.label[s].KEY | metric.label[s].KEY
 *   value     := "quoted string" | 'quoted string' | unquoted number (e.g. 500)
 *
 * with exactly one `metric.type = "…"`. Everything else (OR, NOT, parentheses, `:`, `>`,
 * functions such as starts_with or monitoring.regex.full_match, other selectors) fails with
 * INVALID_ARGUMENT naming the part, never silently matching the wrong series.
 * A label a series lacks compares as absent: `=` does not match it, `!=` does.
 */
import { invalidArgument, unsupported } from './api-error.ts';
import type { SeriesHeader } from './model.ts';

export type Selector =
  | { readonly kind: 'resourceType' }
  | { readonly kind: 'resourceLabel'; readonly key: string }
  | { readonly kind: 'metricLabel'; readonly key: string };

export interface Condition {
  readonly selector: Selector;
  readonly op: '=' | '!=';
  /** Numbers keep their text (500 matches the label value "500"). */
  readonly value: string;
}

export interface Filter {
  readonly metricType: string;
  readonly conditions: readonly Condition[];
}

const SUPPORTED =
  'metric.type, resource.type, resource.labels.KEY and metric.labels.KEY compared with = or != to a quoted string or a number, joined by AND';

type Token =
  | { readonly kind: 'word'; readonly text: string; readonly at: number }
  | { readonly kind: 'string'; readonly text: string; readonly at: number }
  | { readonly kind: 'number'; readonly text: string; readonly at: number }
  | { readonly kind: 'op'; readonly text: string; readonly at: number };

const WORD = /[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/y;
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![A-Za-z0-9_.])/y;
/** Unquoted text that is not a number (5xx, gce_instance): a value the subset refuses. */
const BARE = /[A-Za-z0-9_][A-Za-z0-9_.]*/y;
const OPERATORS = ['!=', '>=', '<=', '=~', '!~', '=', '>', '<', ':', '(', ')', ',', '-'] as const;

function quoted(text: string, at: number): { value: string; next: number } {
  const quote = text[at];
  let value = '';
  for (let i = at + 1; i < text.length; i += 1) {
    const c = text[i];
    if (c === '\\') {
      const escaped = text[i + 1];
      if (escaped === undefined) break;
      value += escaped;
      i += 1;
    } else if (c === quote) {
      return { value, next: i + 1 };
    } else {
      value += c;
    }
  }
  throw invalidArgument(`Could not parse filter: the string starting at position ${at} is not closed.`);
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    if (c === '"' || c === "'") {
      const { value, next } = quoted(text, i);
      tokens.push({ kind: 'string', text: value, at: i });
      i = next;
      continue;
    }
    NUMBER.lastIndex = i;
    const number = /[-\d]/.test(c) ? NUMBER.exec(text) : null;
    if (number) {
      tokens.push({ kind: 'number', text: number[0], at: i });
      i += number[0].length;
      continue;
    }
    WORD.lastIndex = i;
    BARE.lastIndex = i;
    const word = WORD.exec(text) ?? BARE.exec(text);
    if (word) {
      tokens.push({ kind: 'word', text: word[0], at: i });
      i += word[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op === undefined) {
      throw invalidArgument(`Could not parse filter: unexpected character '${c}' at position ${i}.`);
    }
    tokens.push({ kind: 'op', text: op, at: i });
    i += op.length;
  }
  return tokens;
}

function selector(token: Token): Selector | 'metricType' {
  if (token.kind !== 'word') {
    throw invalidArgument(
      `Could not parse filter: expected a selector such as metric.type at position ${token.at}, found '${token.text}'.`,
    );
  }
  const name = token.text;
  if (name === 'metric.type') return 'metricType';
  if (name === 'resource.type') return { kind: 'resourceType' };
  const label = /^(resource|metric)\.labels?\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(name);
  if (label) {
    const key = label[2] ?? '';
    return label[1] === 'resource' ? { kind: 'resourceLabel', key } : { kind: 'metricLabel', key };
  }
  if (['AND', 'OR', 'NOT'].includes(name))
    throw unsupported(`The filter's '${name}' at position ${token.at}`, SUPPORTED);
  throw unsupported(`The filter selector '${name}' (position ${token.at})`, SUPPORTED);
}

export function parseFilter(text: string): Filter {
  if (text.trim() === '')
    throw invalidArgument('Field filter is required: it must name exactly one metric.type.');
  const tokens = tokenize(text);
  let metricType: string | null = null;
  const conditions: Condition[] = [];
  let i = 0;
  for (;;) {
    const first = tokens[i];
    if (first === undefined) throw invalidArgument('Could not parse filter: it ends after AND.');
    if (first.kind === 'op' && first.text === '(') {
      throw unsupported(`Parentheses in the filter (position ${first.at})`, SUPPORTED);
    }
    const op = tokens[i + 1];
    if (op?.kind === 'op' && op.text === '(') {
      throw unsupported(`The filter function ${first.text}() (position ${first.at})`, SUPPORTED);
    }
    const sel = selector(first);
    if (op === undefined || op.kind !== 'op' || (op.text !== '=' && op.text !== '!=')) {
      const found = op === undefined ? 'the end of the filter' : `'${op.text}'`;
      if (op?.kind === 'op') throw unsupported(`The filter operator ${found} after ${first.text}`, SUPPORTED);
      throw invalidArgument(`Could not parse filter: expected = or != after ${first.text}, found ${found}.`);
    }
    const value = tokens[i + 2];
    if (value?.kind === 'word' && tokens[i + 3]?.text === '(') {
      throw unsupported(`The filter function ${value.text}() (position ${value.at})`, SUPPORTED);
    }
    if (value === undefined || (value.kind !== 'string' && value.kind !== 'number')) {
      const found = value === undefined ? 'the end of the filter' : `'${value.text}'`;
      throw unsupported(
        `The filter value ${found} after ${first.text} ${op.text} (quote strings)`,
        SUPPORTED,
      );
    }
    if (sel === 'metricType') {
      if (op.text !== '=') throw unsupported(`metric.type ${op.text}`, SUPPORTED);
      if (metricType !== null) {
        throw invalidArgument(
          'The filter names more than one metric.type; a time series filter selects exactly one metric type.',
        );
      }
      metricType = value.text;
    } else {
      conditions.push({ selector: sel, op: op.text, value: value.text });
    }
    const next = tokens[i + 3];
    if (next === undefined) break;
    if (next.kind === 'word' && next.text === 'AND') {
      i += 4;
      continue;
    }
    if (next.kind === 'word' && (next.text === 'OR' || next.text === 'NOT')) {
      throw unsupported(`The filter's '${next.text}' at position ${next.at}`, SUPPORTED);
    }
    throw unsupported(
      `'${next.text}' at position ${next.at} in the filter (join conditions with AND)`,
      SUPPORTED,
    );
  }
  if (metricType === null) {
    throw invalidArgument('The filter must name exactly one metric type: add metric.type = "…".');
  }
  return { metricType, conditions };
}

function actual(series: SeriesHeader, s: Selector): string | undefined {
  switch (s.kind) {
    case 'resourceType':
      return series.resource.type;
    case 'resourceLabel':
      return series.resource.labels[s.key];
    case 'metricLabel':
      return series.metric.labels[s.key];
  }
}

export function matchesFilter(filter: Filter, series: SeriesHeader): boolean {
  if (series.metric.type !== filter.metricType) return false;
  return filter.conditions.every((c) => {
    const v = actual(series, c.selector);
    return c.op === '=' ? v === c.value : v !== c.value;
  });
}
