/**
 * Workflows expressions (the text inside `${…}`): tokenizer and parser; evaluate.ts runs them.
 *
 * Grammar (lowest precedence first): `or`; `and`; `not`; comparisons `== != < <= > >= in`;
 * `+ -`; `* / % //`; unary `-`; postfix `.key`, `[expr]`, `name(args)`; literals (numbers,
 * single- or double-quoted strings, true/false/null, `[list]`, `{"map": …}`), variables and
 * parentheses. Only named functions can be called (`len(x)`, `map.get(m, "k")`).
 */
import type { Value } from './values.ts';

const BINARY_OPS = [
  'or',
  'and',
  '==',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  'in',
  '+',
  '-',
  '*',
  '/',
  '%',
  '//',
] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];

export type Expr =
  | { readonly kind: 'literal'; readonly value: Value }
  | { readonly kind: 'variable'; readonly name: string }
  | { readonly kind: 'member'; readonly object: Expr; readonly key: string }
  | { readonly kind: 'index'; readonly object: Expr; readonly index: Expr }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Expr[] }
  | { readonly kind: 'unary'; readonly op: '-' | 'not'; readonly operand: Expr }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr }
  | { readonly kind: 'list'; readonly items: readonly Expr[] }
  | { readonly kind: 'map'; readonly entries: readonly (readonly [Expr, Expr])[] };

export class ExpressionSyntaxError extends Error {
  constructor(message: string, text: string, position: number) {
    super(`${message} at position ${position} in \${${text}}`);
    this.name = 'ExpressionSyntaxError';
  }
}

// --- Tokenizer ---------------------------------------------------------------------------------

type Token =
  | { readonly type: 'number'; readonly value: number; readonly pos: number }
  | { readonly type: 'string'; readonly value: string; readonly pos: number }
  | { readonly type: 'ident'; readonly value: string; readonly pos: number }
  | { readonly type: 'punct'; readonly value: string; readonly pos: number }
  | { readonly type: 'end'; readonly value: ''; readonly pos: number };

/** Longest first, so that `//` wins over `/`. */
const PUNCT = '// == != <= >= + - * / % < > ( ) [ ] { } , . :'.split(' ');
const KEYWORDS = new Set('and or not in true false null True False TRUE FALSE'.split(' '));
const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '"': '"',
  "'": "'",
  '\\': '\\',
  '/': '/',
};

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const number = /^\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (number) {
      tokens.push({ type: 'number', value: Number(number[0]), pos: i });
      i += number[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (ident) {
      tokens.push({ type: 'ident', value: ident[0], pos: i });
      i += ident[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      const start = i;
      let value = '';
      i++;
      for (;;) {
        const ch = text[i];
        if (ch === undefined) throw new ExpressionSyntaxError('unterminated string', text, start);
        if (ch === c) break;
        if (ch === '\\') {
          const next = text[i + 1] ?? '';
          if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            value += String.fromCharCode(Number.parseInt(text.slice(i + 2, i + 6), 16));
            i += 6;
            continue;
          }
          const escaped = ESCAPES[next];
          if (escaped === undefined) throw new ExpressionSyntaxError(`unknown escape \\${next}`, text, i);
          value += escaped;
          i += 2;
          continue;
        }
        value += ch;
        i++;
      }
      tokens.push({ type: 'string', value, pos: start });
      i++;
      continue;
    }
    const punct = PUNCT.find((p) => text.startsWith(p, i));
    if (punct === undefined) throw new ExpressionSyntaxError(`unexpected character "${c}"`, text, i);
    tokens.push({ type: 'punct', value: punct, pos: i });
    i += punct.length;
  }
  tokens.push({ type: 'end', value: '', pos: text.length });
  return tokens;
}

// --- Parser ------------------------------------------------------------------------------------

class Parser {
  readonly #text: string;
  readonly #tokens: Token[];
  #i = 0;

  constructor(text: string) {
    this.#text = text;
    this.#tokens = tokenize(text);
  }

  parse(): Expr {
    if (this.#peek().type === 'end') throw this.#error('empty expression');
    const expr = this.#or();
    if (this.#peek().type !== 'end') throw this.#error(`unexpected "${this.#peek().value}"`);
    return expr;
  }

  #peek(): Token {
    return this.#tokens[this.#i] ?? { type: 'end', value: '', pos: this.#text.length };
  }

  #next(): Token {
    const token = this.#peek();
    this.#i++;
    return token;
  }

  #error(message: string): ExpressionSyntaxError {
    return new ExpressionSyntaxError(message, this.#text, this.#peek().pos);
  }

  #isWord(word: string): boolean {
    const t = this.#peek();
    return t.type === 'ident' && t.value === word;
  }

  #isPunct(p: string): boolean {
    const t = this.#peek();
    return t.type === 'punct' && t.value === p;
  }

  #expect(p: string): void {
    if (!this.#isPunct(p)) throw this.#error(`expected "${p}"`);
    this.#i++;
  }

  #or(): Expr {
    let left = this.#and();
    while (this.#isWord('or')) {
      this.#i++;
      left = { kind: 'binary', op: 'or', left, right: this.#and() };
    }
    return left;
  }

  #and(): Expr {
    let left = this.#not();
    while (this.#isWord('and')) {
      this.#i++;
      left = { kind: 'binary', op: 'and', left, right: this.#not() };
    }
    return left;
  }

  #not(): Expr {
    if (this.#isWord('not')) {
      this.#i++;
      return { kind: 'unary', op: 'not', operand: this.#not() };
    }
    return this.#comparison();
  }

  #comparison(): Expr {
    let left = this.#additive();
    for (;;) {
      const t = this.#peek();
      const op =
        t.type === 'punct' && ['==', '!=', '<', '<=', '>', '>='].includes(t.value)
          ? (t.value as BinaryOp)
          : t.type === 'ident' && t.value === 'in'
            ? 'in'
            : null;
      if (op === null) return left;
      this.#i++;
      left = { kind: 'binary', op, left, right: this.#additive() };
    }
  }

  #additive(): Expr {
    let left = this.#multiplicative();
    while (this.#isPunct('+') || this.#isPunct('-')) {
      const op = this.#next().value as BinaryOp;
      left = { kind: 'binary', op, left, right: this.#multiplicative() };
    }
    return left;
  }

  #multiplicative(): Expr {
    let left = this.#unary();
    while (this.#isPunct('*') || this.#isPunct('/') || this.#isPunct('%') || this.#isPunct('//')) {
      const op = this.#next().value as BinaryOp;
      left = { kind: 'binary', op, left, right: this.#unary() };
    }
    return left;
  }

  #unary(): Expr {
    if (this.#isPunct('-')) {
      this.#i++;
      return { kind: 'unary', op: '-', operand: this.#unary() };
    }
    return this.#postfix();
  }

  #postfix(): Expr {
    let expr = this.#primary();
    for (;;) {
      if (this.#isPunct('.')) {
        this.#i++;
        const key = this.#next();
        if (key.type !== 'ident')
          throw new ExpressionSyntaxError('expected a key after "."', this.#text, key.pos);
        expr = { kind: 'member', object: expr, key: key.value };
      } else if (this.#isPunct('[')) {
        this.#i++;
        const index = this.#or();
        this.#expect(']');
        expr = { kind: 'index', object: expr, index };
      } else if (this.#isPunct('(')) {
        const name = dottedName(expr);
        if (name === null) throw this.#error('only named functions can be called');
        this.#i++;
        const args = this.#sequence(')');
        expr = { kind: 'call', name, args };
      } else {
        return expr;
      }
    }
  }

  #sequence(close: string): Expr[] {
    const items: Expr[] = [];
    while (!this.#isPunct(close)) {
      items.push(this.#or());
      if (!this.#isPunct(close)) this.#expect(',');
    }
    this.#i++;
    return items;
  }

  #primary(): Expr {
    const t = this.#next();
    switch (t.type) {
      case 'number':
      case 'string':
        return { kind: 'literal', value: t.value };
      case 'ident':
        if (t.value === 'true' || t.value === 'True' || t.value === 'TRUE')
          return { kind: 'literal', value: true };
        if (t.value === 'false' || t.value === 'False' || t.value === 'FALSE') {
          return { kind: 'literal', value: false };
        }
        if (t.value === 'null') return { kind: 'literal', value: null };
        if (KEYWORDS.has(t.value))
          throw new ExpressionSyntaxError(`unexpected "${t.value}"`, this.#text, t.pos);
        return { kind: 'variable', name: t.value };
      case 'punct':
        if (t.value === '(') {
          const inner = this.#or();
          this.#expect(')');
          return inner;
        }
        if (t.value === '[') return { kind: 'list', items: this.#sequence(']') };
        if (t.value === '{') {
          const entries: [Expr, Expr][] = [];
          while (!this.#isPunct('}')) {
            const key = this.#or();
            this.#expect(':');
            entries.push([key, this.#or()]);
            if (!this.#isPunct('}')) this.#expect(',');
          }
          this.#i++;
          return { kind: 'map', entries };
        }
        throw new ExpressionSyntaxError(`unexpected "${t.value}"`, this.#text, t.pos);
      case 'end':
        throw new ExpressionSyntaxError('unexpected end of expression', this.#text, t.pos);
    }
  }
}

function dottedName(expr: Expr): string | null {
  if (expr.kind === 'variable') return expr.name;
  if (expr.kind === 'member') {
    const base = dottedName(expr.object);
    return base === null ? null : `${base}.${expr.key}`;
  }
  return null;
}

export function parseExpression(text: string): Expr {
  return new Parser(text).parse();
}

/** Every function call in an expression with its number of arguments, for load-time checks. */
export function callsIn(
  expr: Expr,
  out: { name: string; argc: number }[] = [],
): { name: string; argc: number }[] {
  switch (expr.kind) {
    case 'call':
      out.push({ name: expr.name, argc: expr.args.length });
      for (const a of expr.args) callsIn(a, out);
      break;
    case 'member':
      callsIn(expr.object, out);
      break;
    case 'index':
      callsIn(expr.object, out);
      callsIn(expr.index, out);
      break;
    case 'unary':
      callsIn(expr.operand, out);
      break;
    case 'binary':
      callsIn(expr.left, out);
      callsIn(expr.right, out);
      break;
    case 'list':
      for (const item of expr.items) callsIn(item, out);
      break;
    case 'map':
      for (const [k, v] of expr.entries) {
        callsIn(k, out);
        callsIn(v, out);
      }
      break;
    case 'literal':
    case 'variable':
      break;
  }
  return out;
}
