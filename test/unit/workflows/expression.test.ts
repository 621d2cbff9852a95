import { describe, expect, it } from 'vitest';
import { raiseError, WorkflowRaise } from '../../../local/workflows/errors.ts';
import { type EvalContext, evaluate } from '../../../local/workflows/evaluate.ts';
import { callsIn, ExpressionSyntaxError, parseExpression } from '../../../local/workflows/expression.ts';
import { callBuiltin } from '../../../local/workflows/stdlib.ts';
import type { Value, ValueMap } from '../../../local/workflows/values.ts';

const VARS: ValueMap = {
  m: { a: { b: 'deep' }, n: 2, 'special!key': 'ok' },
  l: [10, 20, 30],
  key: 'a',
  s: 'héllo',
};
const ENV: Record<string, string> = { GOOGLE_CLOUD_LOCATION: 'europe-west1', MIN_WAIT_SECONDS: '0.5' };

function ev(text: string, vars: ValueMap = VARS): Value {
  const ctx: EvalContext = {
    variable: (name) => {
      const value = vars[name];
      if (value === undefined) throw raiseError('KeyError', `variable not defined: ${name}`);
      return value;
    },
    call: (name, args) => callBuiltin(name, args, { env: (n) => ENV[n], now: () => 1_700_000_000.25 }),
  };
  return evaluate(parseExpression(text), ctx);
}

/** The value an expression raises (as a Workflows error map). */
function raised(text: string): Value {
  try {
    ev(text);
  } catch (error) {
    if (error instanceof WorkflowRaise) return error.value;
    throw error;
  }
  throw new Error(`${text} raised nothing`);
}

describe('expression parser and evaluator', () => {
  it('evaluates literals and arithmetic with the usual precedence', () => {
    expect(ev('1 + 2 * 3')).toBe(7);
    expect(ev('(1 + 2) * 3')).toBe(9);
    expect(ev('7 / 2')).toBe(3.5);
    expect(ev('7 // 2')).toBe(3);
    expect(ev('-7 % 3')).toBe(2);
    expect(ev('-2 * 3 + 10')).toBe(4);
    expect(ev('1.5e2')).toBe(150);
    expect(ev('true')).toBe(true);
    expect(ev('False')).toBe(false);
    expect(ev('null')).toBeNull();
  });

  it('concatenates strings and decodes escapes in both quote styles', () => {
    expect(ev(`"a" + 'b' + "c"`)).toBe('abc');
    expect(ev('"say \\"hi\\"\\n"')).toBe('say "hi"\n');
    expect(ev("'it\\'s'")).toBe("it's");
    expect(ev('"\\u00e9"')).toBe('é');
  });

  it('compares and combines with and/or/not', () => {
    expect(ev('1 < 2 and "a" < "b"')).toBe(true);
    expect(ev('not 1 == 2')).toBe(true);
    expect(ev('1 + 2 == 3 and not false or false')).toBe(true);
    expect(ev('2 >= 2 and 3 <= 2')).toBe(false);
    expect(ev('1 == 1.0')).toBe(true);
    expect(ev('1 == "1"')).toBe(false);
    expect(ev('[1, {"x": 2}] == [1, {"x": 2}]')).toBe(true);
    expect(ev('m != null')).toBe(true);
  });

  it('tests membership with in', () => {
    expect(ev('"n" in m')).toBe(true);
    expect(ev('"zz" in m')).toBe(false);
    expect(ev('20 in l')).toBe(true);
    expect(ev('not (5 in l)')).toBe(true);
  });

  it('reads maps and lists with dots and brackets', () => {
    expect(ev('m.a.b')).toBe('deep');
    expect(ev('m["a"]["b"]')).toBe('deep');
    expect(ev('m[key].b')).toBe('deep');
    expect(ev('m["special!key"]')).toBe('ok');
    expect(ev('l[1] + l[len(l) - 1]')).toBe(50);
    expect(ev('{"k": [1, 2]}.k[1]')).toBe(2);
  });

  it('calls the supported standard library functions', () => {
    expect(ev('default(null, 5)')).toBe(5);
    expect(ev('default(0, 5)')).toBe(0);
    expect(ev('map.get(m, "missing")')).toBeNull();
    expect(ev('map.get(m, ["a", "b"])')).toBe('deep');
    expect(ev('map.get(m, ["n", "x", "y"])')).toBeNull();
    expect(ev('map.get("not a map", "k")')).toBeNull();
    expect(ev('len(s)')).toBe(5);
    expect(ev('len(l)')).toBe(3);
    expect(ev('len(m)')).toBe(3);
    expect(ev('keys(m.a)')).toEqual(['b']);
    expect(ev('string(1.5) + string(2) + string(true)')).toBe('1.52true');
    expect(ev('int("42") + int(2.9)')).toBe(44);
    // Truncated toward zero (Google does not document the direction; see stdlib.ts).
    expect(ev('int(-2.9)')).toBe(-2);
    expect(ev('int(0.01)')).toBe(0);
    expect(ev('get_type(int(2.5))')).toBe('integer');
    expect(ev('if(true, "yes", "no") + if(false, "yes", "no") + if(null, "yes", "no")')).toBe('yesnono');
    expect(ev('if(0.5 < 1, 0.5, int(0.5))')).toBe(0.5);
    expect(ev('double("2.5") * 2')).toBe(5);
    expect(ev('json.encode_to_string({"a": [1, "x", null]})')).toBe('{"a":[1,"x",null]}');
    expect(ev('json.decode("{\\"a\\": 1}").a')).toBe(1);
    expect(ev('sys.get_env("GOOGLE_CLOUD_LOCATION")')).toBe('europe-west1');
    expect(ev('double(sys.get_env("MIN_WAIT_SECONDS", "1"))')).toBe(0.5);
    expect(ev('sys.get_env("UNSET", "fallback")')).toBe('fallback');
    expect(ev('sys.get_env("UNSET")')).toBeNull();
    expect(ev('sys.now()')).toBe(1_700_000_000.25);
    expect(ev('math.min(math.max(0.2, 1), 3600)')).toBe(1);
    expect(ev('math.abs(-2) + math.floor(2.7)')).toBe(4);
    expect(ev('get_type(1) + " " + get_type(1.5) + " " + get_type(m) + " " + get_type(null)')).toBe(
      'integer double map null',
    );
    expect(ev('list.concat(l, 40)')).toEqual([10, 20, 30, 40]);
    expect(ev('http.default_retry_predicate({"code": 503})')).toBe(true);
    expect(ev('http.default_retry_predicate({"code": 500})')).toBe(false);
    expect(ev('http.default_retry_predicate({"tags": ["ConnectionFailedError"]})')).toBe(true);
    expect(ev('http.default_retry_predicate_non_idempotent({"code": 502})')).toBe(false);
  });

  it('raises Workflows error maps with their tags', () => {
    expect(raised('m.zz')).toMatchObject({ tags: ['KeyError'], message: 'key not found: zz' });
    expect(raised('nope + 1')).toMatchObject({ tags: ['KeyError'] });
    expect(raised('1 + "a"')).toMatchObject({ tags: ['TypeError'] });
    expect(raised('1 / 0')).toMatchObject({ tags: ['ZeroDivisionError'] });
    expect(raised('l[5]')).toMatchObject({ tags: ['IndexError'] });
    expect(raised('l["x"]')).toMatchObject({ tags: ['TypeError'] });
    expect(raised('int("x")')).toMatchObject({ tags: ['ValueError'] });
    expect(raised('int("2.5")')).toMatchObject({ tags: ['ValueError'] });
    expect(raised('int(true)')).toMatchObject({ tags: ['TypeError'] });
    expect(raised('if(1, "a", "b")')).toMatchObject({ tags: ['TypeError'] });
    expect(raised('not 1')).toMatchObject({ tags: ['TypeError'] });
    expect(raised('1 and true')).toMatchObject({ tags: ['TypeError'] });
    expect(raised('"a" < 1')).toMatchObject({ tags: ['TypeError'] });
    expect(raised('len(1)')).toMatchObject({ tags: ['TypeError'] });
    expect(raised('json.decode("{")')).toMatchObject({ tags: ['ValueError'] });
  });

  it('rejects malformed expressions with the position', () => {
    for (const bad of ['1 +', '"unterminated', 'f(', 'a..b', '(1]', '@', '', 'm.', '(1 + 2).x(3)', 'in']) {
      expect(() => parseExpression(bad), bad).toThrow(ExpressionSyntaxError);
    }
    expect(() => parseExpression('1 + * 2')).toThrow(/position 4/);
  });

  it('lists the functions an expression calls, with their argument counts', () => {
    expect(callsIn(parseExpression('default(map.get(a, "b"), len(c)) + x.y'))).toEqual([
      { name: 'default', argc: 2 },
      { name: 'map.get', argc: 2 },
      { name: 'len', argc: 1 },
    ]);
  });
});
