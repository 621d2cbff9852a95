/**
 * The cheap checks every parser runs BEFORE its schema: size, UTF-8, JSON, then shape (nesting
 * depth, keys per object, items per array, total values). Each is linear in the input and stops
 * at the first limit crossed, so what a hostile input costs to refuse is bounded by the size cap,
 * never by what a schema library does with it (a strict object with 100,000 unknown keys names
 * every one of them). Pure: no I/O.
 */
import type { FieldIssue, Parsed } from './validation.ts';

export interface InputLimits {
  /** Bytes of the encoded document. */
  readonly maxBytes: number;
  /** Levels of nested objects and arrays (the top-level value is depth 1). */
  readonly maxDepth: number;
  /** Keys of any one object. */
  readonly maxKeys: number;
  /** Items of any one array. */
  readonly maxItems: number;
}

/** Limits for documents a person writes (rollout requests, operator commands, incidents). */
export const DEFAULT_SHAPE = { maxDepth: 16, maxKeys: 100, maxItems: 1000 } as const;

/** JSON documents above this depth are refused even before they are parsed. */
function depthBeyond(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > maxDepth) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** The first shape limit `value` crosses, as a field issue; null when it fits. Iterative. */
export function shapeIssue(value: unknown, limits: Omit<InputLimits, 'maxBytes'>): FieldIssue | null {
  const stack: { readonly value: unknown; readonly depth: number; readonly path: string }[] = [
    { value, depth: 1, path: '$' },
  ];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const v = next.value;
    if (typeof v !== 'object' || v === null) continue;
    if (next.depth > limits.maxDepth)
      return { field: next.path, rule: `must be nested at most ${limits.maxDepth} levels deep` };
    if (Array.isArray(v)) {
      if (v.length > limits.maxItems)
        return { field: next.path, rule: `must have at most ${limits.maxItems} items` };
      for (let i = 0; i < v.length; i++)
        stack.push({ value: v[i], depth: next.depth + 1, path: `${next.path}[${i}]` });
      continue;
    }
    const keys = Object.keys(v);
    if (keys.length > limits.maxKeys)
      return { field: next.path, rule: `must have at most ${limits.maxKeys} fields (got ${keys.length})` };
    for (const key of keys)
      stack.push({
        value: (v as Record<string, unknown>)[key],
        depth: next.depth + 1,
        path: `${next.path}.${key.slice(0, 64)}`,
      });
  }
  return null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Bytes to a JSON value, refusing in order of cost: too large, not UTF-8, nested too deep (a
 * scan of the text), not JSON, a shape beyond the limits. Only then may a schema look at it.
 */
export function readJson(
  bytes: Uint8Array,
  limits: InputLimits,
  reviver?: (key: string, value: unknown) => unknown,
): Parsed<unknown> {
  const fail = (rule: string, field = '$'): Parsed<unknown> => ({ ok: false, issues: [{ field, rule }] });
  if (bytes.byteLength > limits.maxBytes)
    return fail(`must be at most ${limits.maxBytes} bytes (got ${bytes.byteLength})`);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return fail('must be valid UTF-8 text');
  }
  if (depthBeyond(text, limits.maxDepth))
    return fail(`must be nested at most ${limits.maxDepth} levels deep`);
  let value: unknown;
  try {
    value = JSON.parse(text, reviver);
  } catch {
    return fail('must be valid JSON');
  }
  const issue = shapeIssue(value, limits);
  return issue === null ? { ok: true, value } : { ok: false, issues: [issue] };
}
