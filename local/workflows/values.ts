/**
 * Workflows values: JSON data. Integers and doubles share JavaScript's number (Workflows keeps
 * them apart; here `get_type` calls a whole number "integer").
 */
export type Value = null | boolean | number | string | Value[] | ValueMap;
export interface ValueMap {
  [key: string]: Value;
}

export function isMap(v: Value | undefined): v is ValueMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The Workflows name of a value's type, as `get_type` answers and error messages print it. */
export function typeName(v: Value): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'double';
  if (typeof v === 'string') return 'string';
  return Array.isArray(v) ? 'list' : 'map';
}

export function deepEqual(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i] ?? null));
  }
  if (isMap(a)) {
    if (!isMap(b)) return false;
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k] ?? null, b[k] ?? null))
    );
  }
  return false;
}

/** Workflows copies values on assignment; so does the runner. */
export function copy<T extends Value>(v: T): T {
  return typeof v === 'object' && v !== null ? structuredClone(v) : v;
}

/** Converts parsed JSON or YAML data into a Value; anything else is rejected with its path. */
export function toValue(data: unknown, path = '$'): Value {
  if (data === null || data === undefined) return null;
  if (typeof data === 'boolean' || typeof data === 'string') return data;
  if (typeof data === 'number') {
    if (!Number.isFinite(data)) throw new TypeError(`${path}: ${data} is not a finite number`);
    return data;
  }
  if (Array.isArray(data)) return data.map((item, i) => toValue(item, `${path}[${i}]`));
  if (typeof data === 'object' && Object.getPrototypeOf(data) === Object.prototype) {
    const out: ValueMap = {};
    for (const [k, v] of Object.entries(data)) out[k] = toValue(v, `${path}.${k}`);
    return out;
  }
  throw new TypeError(`${path}: unsupported value of type ${typeof data}`);
}
