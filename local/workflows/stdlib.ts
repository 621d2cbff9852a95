/**
 * The subset of the Workflows standard library usable inside expressions. Blocking functions
 * (HTTP, sys.sleep, sys.log) are call-step targets only; see interpreter.ts and http.ts.
 */
import { randomUUID } from 'node:crypto';
import { raiseError } from './errors.ts';
import { copy, isMap, toValue, typeName, type Value } from './values.ts';

export interface StdlibContext {
  /** A workflow environment variable (built-in or user-defined), or undefined. */
  env(name: string): string | undefined;
  /** Seconds since the Unix epoch. */
  now(): number;
}

interface Builtin {
  readonly min: number;
  readonly max: number;
  readonly fn: (args: readonly Value[], ctx: StdlibContext) => Value;
}

/** Call-step targets that cannot appear inside an expression. */
export const BLOCKING_FUNCTIONS: ReadonlySet<string> = new Set([
  'http.get',
  'http.post',
  'http.put',
  'http.patch',
  'http.delete',
  'http.request',
  'sys.sleep',
  'sys.sleep_until',
  'sys.log',
]);

const RETRYABLE_CODES = new Set([429, 502, 503, 504]);
const RETRYABLE_TAGS = new Set(['ConnectionError', 'ConnectionFailedError', 'TimeoutError']);

function tagsOf(e: Value): string[] {
  const tags = isMap(e) ? e['tags'] : null;
  return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
}

/** `http.default_retry_predicate`: 429/502/503/504 and connection or timeout errors. */
export function defaultRetryPredicate(e: Value): boolean {
  const code = isMap(e) ? e['code'] : null;
  return (
    (typeof code === 'number' && RETRYABLE_CODES.has(code)) || tagsOf(e).some((t) => RETRYABLE_TAGS.has(t))
  );
}

/** `http.default_retry_predicate_non_idempotent`: 429/503 and failed connections. */
export function nonIdempotentRetryPredicate(e: Value): boolean {
  const code = isMap(e) ? e['code'] : null;
  return code === 429 || code === 503 || tagsOf(e).includes('ConnectionFailedError');
}

function number(v: Value, fn: string): number {
  if (typeof v !== 'number') throw raiseError('TypeError', `${fn} needs a number, got ${typeName(v)}`);
  return v;
}

function str(v: Value, fn: string): string {
  if (typeof v !== 'string') throw raiseError('TypeError', `${fn} needs a string, got ${typeName(v)}`);
  return v;
}

const INT = /^[+-]?\d+$/;
const DOUBLE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

const BUILTINS: Record<string, Builtin> = {
  default: {
    min: 2,
    max: 2,
    fn: ([v, fallback]) => (v === null || v === undefined ? (fallback ?? null) : v),
  },
  'map.get': {
    min: 2,
    max: 2,
    fn: ([m, keys]) => {
      const path = typeof keys === 'string' ? [keys] : keys;
      if (!Array.isArray(path) || !path.every((k) => typeof k === 'string')) {
        throw raiseError('TypeError', 'map.get keys must be a string or a list of strings');
      }
      let current: Value = m ?? null;
      for (const key of path) {
        if (!isMap(current) || !Object.hasOwn(current, key)) return null;
        current = current[key] ?? null;
      }
      return current;
    },
  },
  keys: {
    min: 1,
    max: 1,
    fn: ([m]) => {
      if (!isMap(m ?? null)) throw raiseError('TypeError', `keys needs a map, got ${typeName(m ?? null)}`);
      return Object.keys(m as object);
    },
  },
  len: {
    min: 1,
    max: 1,
    fn: ([v]) => {
      if (typeof v === 'string') return [...v].length;
      if (Array.isArray(v)) return v.length;
      if (isMap(v ?? null)) return Object.keys(v as object).length;
      throw raiseError('TypeError', `len needs a string, list or map, got ${typeName(v ?? null)}`);
    },
  },
  get_type: { min: 1, max: 1, fn: ([v]) => typeName(v ?? null) },
  string: {
    min: 1,
    max: 1,
    fn: ([v]) => {
      if (typeof v === 'string') return v;
      if (typeof v === 'number' || typeof v === 'boolean') return String(v);
      throw raiseError(
        'TypeError',
        `string needs an integer, double, boolean or string, got ${typeName(v ?? null)}`,
      );
    },
  },
  // Google documents int() only as "accepts an attribute of type string or double and returns an
  // integer", not which way a fraction goes; the runner truncates toward zero, as a cast does
  // (int(2.9) is 2, int(-2.9) is -2). For the non-negative waits the workflow converts, that is
  // also the floor.
  int: {
    min: 1,
    max: 1,
    fn: ([v]) => {
      if (typeof v === 'number') return Math.trunc(v);
      if (typeof v === 'string') {
        if (!INT.test(v.trim()))
          throw raiseError('ValueError', `cannot convert ${JSON.stringify(v)} to an integer`);
        return Number.parseInt(v.trim(), 10);
      }
      throw raiseError('TypeError', `int needs a string or a number, got ${typeName(v ?? null)}`);
    },
  },
  double: {
    min: 1,
    max: 1,
    fn: ([v]) => {
      if (typeof v === 'number') return v;
      if (typeof v === 'string') {
        if (!DOUBLE.test(v.trim()))
          throw raiseError('ValueError', `cannot convert ${JSON.stringify(v)} to a double`);
        return Number(v.trim());
      }
      throw raiseError('TypeError', `double needs a string or a number, got ${typeName(v ?? null)}`);
    },
  },
  // Google: "If condition evaluates to true, ifTrue is returned. If condition evaluates to false
  // or null, ifFalse is returned." Any other condition is refused here (undocumented). The runner
  // evaluates both branches before the call, as for every function (Google does not say).
  if: {
    min: 3,
    max: 3,
    fn: ([condition, ifTrue, ifFalse]) => {
      if (condition === true) return ifTrue ?? null;
      if (condition === false || condition === null || condition === undefined) return ifFalse ?? null;
      throw raiseError('TypeError', `if needs a boolean or null condition, got ${typeName(condition)}`);
    },
  },
  'json.encode_to_string': {
    min: 1,
    max: 2,
    fn: ([v, indent]) => JSON.stringify(v ?? null, null, indent === true ? 2 : undefined),
  },
  'json.decode': {
    min: 1,
    max: 1,
    fn: ([v]) => {
      const text = str(v ?? null, 'json.decode');
      try {
        return toValue(JSON.parse(text));
      } catch (error) {
        throw raiseError('ValueError', `json.decode: ${(error as Error).message}`);
      }
    },
  },
  'list.concat': {
    min: 2,
    max: 2,
    fn: ([list, item]) => {
      if (!Array.isArray(list))
        throw raiseError('TypeError', `list.concat needs a list, got ${typeName(list ?? null)}`);
      return [...copy(list), copy(item ?? null)];
    },
  },
  'math.abs': { min: 1, max: 1, fn: ([v]) => Math.abs(number(v ?? null, 'math.abs')) },
  'math.floor': { min: 1, max: 1, fn: ([v]) => Math.floor(number(v ?? null, 'math.floor')) },
  'math.max': {
    min: 2,
    max: 2,
    fn: ([a, b]) => Math.max(number(a ?? null, 'math.max'), number(b ?? null, 'math.max')),
  },
  'math.min': {
    min: 2,
    max: 2,
    fn: ([a, b]) => Math.min(number(a ?? null, 'math.min'), number(b ?? null, 'math.min')),
  },
  'sys.now': { min: 0, max: 0, fn: (_args, ctx) => ctx.now() },
  'sys.get_env': {
    min: 1,
    max: 2,
    fn: ([name, fallback], ctx) => {
      const value = ctx.env(str(name ?? null, 'sys.get_env'));
      if (value !== undefined) return value;
      return fallback === undefined ? null : str(fallback, 'sys.get_env');
    },
  },
  'uuid.generate': { min: 0, max: 0, fn: () => randomUUID() },
  'http.default_retry_predicate': { min: 1, max: 1, fn: ([e]) => defaultRetryPredicate(e ?? null) },
  'http.default_retry_predicate_non_idempotent': {
    min: 1,
    max: 1,
    fn: ([e]) => nonIdempotentRetryPredicate(e ?? null),
  },
};

export function isBuiltin(name: string): boolean {
  return Object.hasOwn(BUILTINS, name);
}

export const BUILTIN_NAMES: readonly string[] = Object.keys(BUILTINS).sort();

/** The arity of a function, for load-time checks. */
export function arityOf(name: string): { min: number; max: number } | null {
  const b = BUILTINS[name];
  return b === undefined ? null : { min: b.min, max: b.max };
}

export function callBuiltin(name: string, args: Value[], ctx: StdlibContext): Value {
  const b = BUILTINS[name];
  if (b === undefined) throw raiseError('TypeError', `unknown function ${name}`);
  if (args.length < b.min || args.length > b.max) {
    const expected = b.min === b.max ? `${b.min}` : `${b.min} to ${b.max}`;
    throw raiseError('TypeError', `${name} takes ${expected} arguments, got ${args.length}`);
  }
  return b.fn(args, ctx);
}
