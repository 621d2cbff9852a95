/** Evaluates parsed Workflows expressions; failures raise Workflows error maps (KeyError, TypeError, …). */
import { raiseError } from './errors.ts';
import type { BinaryOp, Expr } from './expression.ts';
import { deepEqual, isMap, typeName, type Value, type ValueMap } from './values.ts';

export interface EvalContext {
  /** The value of a variable; raises KeyError when it is not defined. */
  variable(name: string): Value;
  call(name: string, args: Value[]): Value;
}

function show(v: Value): string {
  return typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? 'null');
}

export function getKey(object: Value, key: Value): Value {
  if (isMap(object)) {
    if (typeof key !== 'string')
      throw raiseError('TypeError', `map keys must be strings, got ${typeName(key)}`);
    if (!Object.hasOwn(object, key)) throw raiseError('KeyError', `key not found: ${key}`);
    return object[key] ?? null;
  }
  if (Array.isArray(object)) {
    if (typeof key !== 'number' || !Number.isInteger(key)) {
      throw raiseError('TypeError', `list indices must be integers, got ${typeName(key)}`);
    }
    if (key < 0 || key >= object.length) {
      throw raiseError('IndexError', `list index ${key} out of range (length ${object.length})`);
    }
    return object[key] ?? null;
  }
  throw raiseError('TypeError', `cannot read ${show(key)} of a ${typeName(object)}`);
}

function requireBoolean(v: Value, op: string): boolean {
  if (typeof v !== 'boolean')
    throw raiseError('TypeError', `operand of "${op}" must be a boolean, got ${typeName(v)}`);
  return v;
}

function arithmetic(op: BinaryOp, a: Value, b: Value): Value {
  if (op === '+' && typeof a === 'string' && typeof b === 'string') return a + b;
  if (typeof a !== 'number' || typeof b !== 'number') {
    throw raiseError('TypeError', `unsupported operand types for "${op}": ${typeName(a)} and ${typeName(b)}`);
  }
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    default:
      break;
  }
  if (b === 0) throw raiseError('ZeroDivisionError', `division by zero`);
  if (op === '/') return a / b;
  if (op === '//') return Math.floor(a / b);
  return a - b * Math.floor(a / b);
}

function compare(op: BinaryOp, a: Value, b: Value): boolean {
  const comparable =
    (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string');
  if (!comparable)
    throw raiseError('TypeError', `cannot compare ${typeName(a)} and ${typeName(b)} with "${op}"`);
  if (op === '<') return a < b;
  if (op === '<=') return a <= b;
  if (op === '>') return a > b;
  return a >= b;
}

function contains(needle: Value, haystack: Value): boolean {
  if (isMap(haystack)) {
    if (typeof needle !== 'string')
      throw raiseError('TypeError', `"in" a map needs a string key, got ${typeName(needle)}`);
    return Object.hasOwn(haystack, needle);
  }
  if (Array.isArray(haystack)) return haystack.some((item) => deepEqual(item, needle));
  throw raiseError('TypeError', `"in" needs a list or a map on the right, got ${typeName(haystack)}`);
}

export function evaluate(expr: Expr, ctx: EvalContext): Value {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'variable':
      return ctx.variable(expr.name);
    case 'member':
      return getKey(evaluate(expr.object, ctx), expr.key);
    case 'index':
      return getKey(evaluate(expr.object, ctx), evaluate(expr.index, ctx));
    case 'call':
      return ctx.call(
        expr.name,
        expr.args.map((a) => evaluate(a, ctx)),
      );
    case 'list':
      return expr.items.map((item) => evaluate(item, ctx));
    case 'map': {
      const out: ValueMap = {};
      for (const [k, v] of expr.entries) {
        const key = evaluate(k, ctx);
        if (typeof key !== 'string')
          throw raiseError('TypeError', `map keys must be strings, got ${typeName(key)}`);
        out[key] = evaluate(v, ctx);
      }
      return out;
    }
    case 'unary': {
      const v = evaluate(expr.operand, ctx);
      if (expr.op === 'not') return !requireBoolean(v, 'not');
      if (typeof v !== 'number')
        throw raiseError('TypeError', `bad operand type for unary "-": ${typeName(v)}`);
      return -v;
    }
    case 'binary': {
      const { op } = expr;
      if (op === 'and' || op === 'or') {
        const left = requireBoolean(evaluate(expr.left, ctx), op);
        if (op === 'and' ? !left : left) return left;
        return requireBoolean(evaluate(expr.right, ctx), op);
      }
      const a = evaluate(expr.left, ctx);
      const b = evaluate(expr.right, ctx);
      switch (op) {
        case '==':
          return deepEqual(a, b);
        case '!=':
          return !deepEqual(a, b);
        case '<':
        case '<=':
        case '>':
        case '>=':
          return compare(op, a, b);
        case 'in':
          return contains(a, b);
        default:
          return arithmetic(op, a, b);
      }
    }
  }
}
