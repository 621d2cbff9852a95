/**
 * The size cap of one log entry. Cloud Logging refuses entries over 256 KB, and a line that echoes
 * attacker input without bound is both a cost and a way to hide other lines; so every entry is
 * bounded before it is written: strings escaped (control characters, bidi overrides) and cut,
 * arrays and objects cut by count and depth, and if the entry is still over the cap, its other
 * fields replaced by a marker. The severity, message, time, trace and rollout labels always stay.
 */
import { ECHO_LIMITS, echo } from '../core/validation.ts';

/** No serialized log entry is longer than this (bytes of UTF-8). */
export const MAX_LOG_ENTRY_BYTES = 16 * 1024;

export const LOG_LIMITS = {
  message: ECHO_LIMITS.message,
  string: 1024,
  items: 20,
  keys: 40,
  depth: 5,
} as const;

/** Fields an entry never loses to the cap. */
const KEPT = new Set([
  'severity',
  'message',
  'time',
  'function',
  'rolloutId',
  'messageId',
  'code',
  'logging.googleapis.com/trace',
  'logging.googleapis.com/spanId',
]);

function describeError(error: Error): Record<string, unknown> {
  const e = error as Error & { code?: unknown; hint?: unknown; retryable?: unknown };
  return { name: e.name, message: e.message, code: e.code, hint: e.hint, retryable: e.retryable };
}

/** `value` with every string escaped and cut, and collections cut by count and depth. */
export function boundValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return echo(value, LOG_LIMITS.string);
  if (value instanceof Error) return boundValue(describeError(value), depth);
  if (typeof value !== 'object' || value === null) return value;
  const toJson = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJson === 'function') return boundValue(toJson.call(value), depth);
  if (depth >= LOG_LIMITS.depth) return '[nested too deep]';
  if (Array.isArray(value)) {
    const kept = value.slice(0, LOG_LIMITS.items).map((v) => boundValue(v, depth + 1));
    return value.length > LOG_LIMITS.items ? [...kept, `[${value.length - LOG_LIMITS.items} more]`] : kept;
  }
  const out: Record<string, unknown> = {};
  let count = 0;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (++count > LOG_LIMITS.keys) {
      out['[more fields]'] = true;
      break;
    }
    out[echo(key, 100)] = boundValue((value as Record<string, unknown>)[key], depth + 1);
  }
  return out;
}

/** One log line: the entry bounded field by field, then cut to the cap if it is still over. */
export function serializeEntry(entry: Readonly<Record<string, unknown>>): string {
  const bounded: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entry))
    bounded[key] =
      key === 'message' && typeof value === 'string'
        ? echo(value, LOG_LIMITS.message)
        : KEPT.has(key) && typeof value === 'string'
          ? echo(value, 200)
          : boundValue(value);
  const line = JSON.stringify(bounded);
  if (Buffer.byteLength(line) <= MAX_LOG_ENTRY_BYTES) return line;
  const kept: Record<string, unknown> = {};
  for (const key of Object.keys(bounded)) if (KEPT.has(key)) kept[key] = bounded[key];
  return JSON.stringify({ ...kept, truncated: true, originalBytes: Buffer.byteLength(line) });
}
