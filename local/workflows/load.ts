/**
 * Loads a workflow definition (YAML or JSON) and validates it against the subset the local
 * runner executes. Everything that can be checked before running is checked here — unknown or
 * unsupported step kinds, call targets, functions, arguments, jump targets, expression syntax —
 * and reported with the step that uses it.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { WorkflowLoadError } from './errors.ts';
import { callsIn, type Expr, ExpressionSyntaxError, parseExpression } from './expression.ts';
import type {
  AssignTarget,
  CallTarget,
  Program,
  RetryPolicy,
  RetryPredicate,
  Step,
  StepBody,
  SwitchCondition,
  Template,
} from './program.ts';
import { arityOf, BLOCKING_FUNCTIONS, BUILTIN_NAMES } from './stdlib.ts';
import { toValue, type Value } from './values.ts';

/** Workflows limits checked at load time. */
export const LIMITS = { expressionChars: 400, assignments: 50, switchConditions: 50 } as const;

const HTTP_ARGS = ['url', 'headers', 'body', 'query', 'auth', 'timeout'];
const CALL_ARGS: Record<CallTarget, { allowed: readonly string[]; required: readonly string[] }> = {
  'http.get': { allowed: HTTP_ARGS, required: ['url'] },
  'http.post': { allowed: HTTP_ARGS, required: ['url'] },
  'http.put': { allowed: HTTP_ARGS, required: ['url'] },
  'http.patch': { allowed: HTTP_ARGS, required: ['url'] },
  'http.delete': { allowed: HTTP_ARGS, required: ['url'] },
  'http.request': { allowed: [...HTTP_ARGS, 'method'], required: ['url', 'method'] },
  'sys.sleep': { allowed: ['seconds'], required: ['seconds'] },
  'sys.log': { allowed: ['text', 'json', 'data', 'severity', 'timeout'], required: [] },
};

const STEP_KEYS: Record<Exclude<StepBody['kind'], 'jump'>, readonly string[]> = {
  assign: ['assign', 'next'],
  call: ['call', 'args', 'result', 'next'],
  switch: ['switch', 'next'],
  return: ['return'],
  raise: ['raise'],
  steps: ['steps', 'next'],
  try: ['try', 'retry', 'except', 'next'],
};

/** Constructs of real Workflows the runner recognises but does not execute. */
const UNSUPPORTED_KEYS: Record<string, string> = {
  for: '"for" loops',
  parallel: '"parallel" branches',
};

const RETRY_POLICIES: Record<string, RetryPredicate> = {
  'http.default_retry': 'default',
  'http.default_retry_non_idempotent': 'non_idempotent',
};
const RETRY_PREDICATES: Record<string, RetryPredicate> = {
  'http.default_retry_predicate': 'default',
  'http.default_retry_predicate_non_idempotent': 'non_idempotent',
  'retry.always': 'always',
  'retry.never': 'never',
};

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

type Raw = Record<string, unknown>;

function isRaw(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The expression inside a `${…}` string, or null for a plain string. */
export function expressionText(s: string): string | null {
  return s.startsWith('${') && s.endsWith('}') ? s.slice(2, -1) : null;
}

class Loader {
  readonly #source: string;
  readonly #names = new Set<string>();
  /** Jumps to check once every step is known: target, the lists it may reach, the step. */
  readonly #jumps: { target: string; scopes: readonly (readonly Step[])[]; step: string }[] = [];

  constructor(source: string) {
    this.#source = source;
  }

  fail(step: string | null, message: string): never {
    throw new WorkflowLoadError(this.#source, step, message);
  }

  program(doc: unknown): Program {
    if (Array.isArray(doc)) return { source: this.#source, param: null, steps: this.#checked(doc, 'main') };
    if (!isRaw(doc)) this.fail(null, 'a workflow is a map with a "main" workflow (or a list of steps)');
    for (const name of Object.keys(doc)) {
      if (name !== 'main') {
        this.fail(null, `subworkflow "${name}" is not supported by the local runner (only "main" is)`);
      }
    }
    const main = doc['main'];
    if (!isRaw(main)) this.fail(null, '"main" must be a map with "steps"');
    for (const key of Object.keys(main)) {
      if (key !== 'params' && key !== 'steps') this.fail(null, `unknown key "${key}" in "main"`);
    }
    const params = main['params'] ?? [];
    if (!Array.isArray(params) || params.length > 1 || !params.every((p) => typeof p === 'string')) {
      this.fail(null, '"main" takes at most one parameter, a name: params: [args]');
    }
    const param = params[0] ?? null;
    if (param !== null && !IDENTIFIER.test(param)) this.fail(null, `invalid parameter name "${param}"`);
    return { source: this.#source, param, steps: this.#checked(main['steps'], 'main') };
  }

  #checked(raw: unknown, where: string): Step[] {
    const steps = this.#steps(raw, where, []);
    for (const jump of this.#jumps) {
      if (!jump.scopes.some((list) => list.some((s) => s.name === jump.target))) {
        this.fail(jump.step, `next: "${jump.target}" is not a step this step can jump to`);
      }
    }
    return steps;
  }

  #steps(raw: unknown, where: string, outer: readonly (readonly Step[])[]): Step[] {
    if (!Array.isArray(raw) || raw.length === 0)
      this.fail(null, `${where}: "steps" must be a non-empty list`);
    const list: Step[] = [];
    const scopes = [list, ...outer];
    for (const entry of raw) {
      if (!isRaw(entry) || Object.keys(entry).length !== 1) {
        this.fail(null, `${where}: each step is a map with one key, the step name`);
      }
      const [name, body] = Object.entries(entry)[0] as [string, unknown];
      if (this.#names.has(name)) this.fail(name, 'duplicate step name');
      this.#names.add(name);
      list.push({ name, body: this.#body(name, body, scopes) });
    }
    return list;
  }

  #next(step: string, raw: unknown, scopes: readonly (readonly Step[])[]): string | null {
    if (raw === undefined) return null;
    if (typeof raw !== 'string') this.fail(step, '"next" must be a step name or "end"');
    if (raw === 'break' || raw === 'continue') {
      this.fail(step, `next: ${raw} belongs to "for" loops, which the local runner does not support`);
    }
    if (raw !== 'end') this.#jumps.push({ target: raw, scopes, step });
    return raw;
  }

  #body(step: string, raw: unknown, scopes: readonly (readonly Step[])[]): StepBody {
    if (!isRaw(raw))
      this.fail(step, 'a step must be a map (assign, call, switch, steps, try, return, raise, next)');
    const keys = Object.keys(raw);
    for (const key of keys) {
      const unsupported = UNSUPPORTED_KEYS[key];
      if (unsupported !== undefined) this.fail(step, `${unsupported} are not supported by the local runner`);
    }
    const kinds = (Object.keys(STEP_KEYS) as (keyof typeof STEP_KEYS)[]).filter((k) => keys.includes(k));
    if (kinds.length > 1)
      this.fail(step, `a step cannot combine ${kinds.map((k) => `"${k}"`).join(' and ')}`);
    const kind = kinds[0];
    if (kind === undefined) {
      if (keys.length === 1 && keys[0] === 'next') {
        return { kind: 'jump', next: this.#next(step, raw['next'], scopes) ?? 'end' };
      }
      this.fail(step, `unsupported step: ${keys.map((k) => `"${k}"`).join(', ') || 'empty'}`);
    }
    for (const key of keys) {
      if (!STEP_KEYS[kind].includes(key)) this.fail(step, `"${key}" is not allowed in a "${kind}" step`);
    }
    const next = (): string | null => this.#next(step, raw['next'], scopes);
    switch (kind) {
      case 'assign':
        return { kind, items: this.#assign(step, raw['assign']), next: next() };
      case 'call':
        return this.#call(step, raw, next());
      case 'switch':
        return { kind, conditions: this.#switch(step, raw['switch'], scopes), next: next() };
      case 'return':
        return { kind, value: this.template(step, raw['return']) };
      case 'raise':
        return { kind, value: this.template(step, raw['raise']) };
      case 'steps':
        return { kind, steps: this.#steps(raw['steps'], `step "${step}"`, scopes), next: next() };
      case 'try':
        return this.#try(step, raw, scopes, next());
    }
  }

  #assign(step: string, raw: unknown): { target: AssignTarget; value: Template }[] {
    if (!Array.isArray(raw) || raw.length === 0)
      this.fail(step, '"assign" must be a non-empty list of {name: value}');
    if (raw.length > LIMITS.assignments)
      this.fail(step, `more than ${LIMITS.assignments} assignments in one step`);
    return raw.map((item) => {
      if (!isRaw(item) || Object.keys(item).length !== 1)
        this.fail(step, 'each assignment is a map {name: value}');
      const [text, value] = Object.entries(item)[0] as [string, unknown];
      return { target: this.#target(step, text), value: this.template(step, value) };
    });
  }

  #target(step: string, text: string): AssignTarget {
    const path: Expr[] = [];
    let expr = this.#expression(step, text);
    for (;;) {
      if (expr.kind === 'variable') return { variable: expr.name, path: path.reverse(), text };
      if (expr.kind === 'member') {
        path.push({ kind: 'literal', value: expr.key });
        expr = expr.object;
      } else if (expr.kind === 'index') {
        path.push(expr.index);
        expr = expr.object;
      } else {
        this.fail(step, `cannot assign to "${text}": use a name, name.key or name[index]`);
      }
    }
  }

  #call(step: string, raw: Raw, next: string | null): StepBody {
    const target = raw['call'];
    if (typeof target !== 'string') this.fail(step, '"call" must name a function');
    if (!Object.hasOwn(CALL_ARGS, target)) {
      this.fail(
        step,
        `call: ${target} is not supported by the local runner (it runs ${Object.keys(CALL_ARGS).join(', ')}; ` +
          'other functions belong in expressions, and subworkflows and connectors are not supported)',
      );
    }
    const spec = CALL_ARGS[target as CallTarget];
    const args = raw['args'];
    if (args !== undefined && !isRaw(args)) this.fail(step, '"args" must be a map');
    const names = args === undefined ? [] : Object.keys(args);
    for (const name of names) {
      if (!spec.allowed.includes(name)) this.fail(step, `argument "${name}" of ${target} is not supported`);
    }
    for (const name of spec.required) {
      if (!names.includes(name)) this.fail(step, `${target} needs the argument "${name}"`);
    }
    if (target === 'sys.log' && !names.some((n) => n === 'text' || n === 'json' || n === 'data')) {
      this.fail(step, 'sys.log needs "text", "json" or "data"');
    }
    const result = raw['result'];
    if (result !== undefined && (typeof result !== 'string' || !IDENTIFIER.test(result))) {
      this.fail(step, '"result" must be a variable name');
    }
    return {
      kind: 'call',
      target: target as CallTarget,
      args: args === undefined ? null : this.template(step, args),
      result: result ?? null,
      next,
    };
  }

  #switch(step: string, raw: unknown, scopes: readonly (readonly Step[])[]): SwitchCondition[] {
    if (!Array.isArray(raw) || raw.length === 0)
      this.fail(step, '"switch" must be a non-empty list of conditions');
    if (raw.length > LIMITS.switchConditions)
      this.fail(step, `more than ${LIMITS.switchConditions} conditions`);
    return raw.map((c) => {
      if (!isRaw(c) || !('condition' in c)) this.fail(step, 'each switch entry needs a "condition"');
      for (const key of Object.keys(c)) {
        if (!['condition', 'next', 'steps', 'return', 'raise'].includes(key)) {
          this.fail(step, `"${key}" is not supported in a switch condition`);
        }
      }
      const actions = ['next', 'steps', 'return', 'raise'].filter((k) => k in c);
      if (actions.length === 0) this.fail(step, 'a switch condition needs next, steps, return or raise');
      return {
        condition: this.template(step, c['condition']),
        next: this.#next(step, c['next'], scopes),
        steps: c['steps'] === undefined ? null : this.#steps(c['steps'], `step "${step}"`, scopes),
        returns: 'return' in c ? this.template(step, c['return']) : null,
        raises: 'raise' in c ? this.template(step, c['raise']) : null,
      };
    });
  }

  #try(step: string, raw: Raw, scopes: readonly (readonly Step[])[], next: string | null): StepBody {
    const body = raw['try'];
    if (!isRaw(body)) this.fail(step, '"try" must be a map: a call, or steps');
    const steps =
      Object.keys(body).length === 1 && 'steps' in body
        ? this.#steps(body['steps'], `step "${step}"`, scopes)
        : [{ name: step, body: this.#body(step, body, scopes) }];
    let except: { as: string | null; steps: Step[] } | null = null;
    const rawExcept = raw['except'];
    if (rawExcept !== undefined) {
      if (!isRaw(rawExcept) || !('steps' in rawExcept))
        this.fail(step, '"except" must be {as: name, steps: […]}');
      for (const key of Object.keys(rawExcept)) {
        if (key !== 'as' && key !== 'steps') this.fail(step, `"${key}" is not allowed in "except"`);
      }
      const as = rawExcept['as'];
      if (as !== undefined && (typeof as !== 'string' || !IDENTIFIER.test(as))) {
        this.fail(step, '"except.as" must be a variable name');
      }
      except = { as: as ?? null, steps: this.#steps(rawExcept['steps'], `step "${step}" except`, scopes) };
    }
    const retry = raw['retry'] === undefined ? null : this.#retry(step, raw['retry']);
    if (retry === null && except === null) this.fail(step, '"try" needs "retry" or "except"');
    return { kind: 'try', body: steps, retry, except, next };
  }

  #retry(step: string, raw: unknown): RetryPolicy {
    const number = (value: number): Template => ({ kind: 'const', value });
    if (typeof raw === 'string') {
      const name = expressionText(raw)?.trim() ?? '';
      const predicate = RETRY_POLICIES[name];
      if (predicate === undefined) {
        this.fail(
          step,
          `retry: ${raw} is not supported (use \${http.default_retry}, \${http.default_retry_non_idempotent} or a map)`,
        );
      }
      return {
        predicate,
        maxRetries: number(5),
        initialDelay: number(1),
        maxDelay: number(60),
        multiplier: number(1.25),
      };
    }
    if (!isRaw(raw))
      this.fail(step, '"retry" must be a policy expression or {predicate, max_retries, backoff}');
    for (const key of Object.keys(raw)) {
      if (!['predicate', 'max_retries', 'backoff'].includes(key))
        this.fail(step, `"${key}" is not allowed in "retry"`);
    }
    const predicateText =
      typeof raw['predicate'] === 'string' ? expressionText(raw['predicate'])?.trim() : undefined;
    const predicate = predicateText === undefined ? undefined : RETRY_PREDICATES[predicateText];
    if (predicate === undefined) {
      this.fail(
        step,
        `retry predicate ${JSON.stringify(raw['predicate'])} is not supported (the local runner knows ` +
          `${Object.keys(RETRY_PREDICATES)
            .map((p) => `\${${p}}`)
            .join(', ')}; subworkflow predicates are not supported)`,
      );
    }
    const backoff = raw['backoff'];
    if (raw['max_retries'] === undefined || !isRaw(backoff)) {
      this.fail(
        step,
        'a custom retry needs "max_retries" and "backoff" {initial_delay, max_delay, multiplier}',
      );
    }
    for (const key of ['initial_delay', 'max_delay', 'multiplier']) {
      if (backoff[key] === undefined) this.fail(step, `retry backoff needs "${key}"`);
    }
    return {
      predicate,
      maxRetries: this.template(step, raw['max_retries']),
      initialDelay: this.template(step, backoff['initial_delay']),
      maxDelay: this.template(step, backoff['max_delay']),
      multiplier: this.template(step, backoff['multiplier']),
    };
  }

  #expression(step: string, text: string): Expr {
    if (text.length > LIMITS.expressionChars) {
      this.fail(
        step,
        `expression longer than ${LIMITS.expressionChars} characters: \${${text.slice(0, 40)}…}`,
      );
    }
    let expr: Expr;
    try {
      expr = parseExpression(text);
    } catch (error) {
      if (error instanceof ExpressionSyntaxError) this.fail(step, error.message);
      throw error;
    }
    for (const { name, argc } of callsIn(expr)) {
      if (BLOCKING_FUNCTIONS.has(name)) {
        this.fail(step, `${name} is a blocking call and cannot be used in an expression; use a call step`);
      }
      const arity = arityOf(name);
      if (arity === null) {
        this.fail(
          step,
          `function ${name} is not supported by the local runner (supported: ${BUILTIN_NAMES.join(', ')})`,
        );
      }
      if (argc < arity.min || argc > arity.max) {
        const expected = arity.min === arity.max ? `${arity.min}` : `${arity.min} to ${arity.max}`;
        this.fail(step, `${name} takes ${expected} arguments, got ${argc}`);
      }
    }
    return expr;
  }

  /** Parses the expressions of a YAML value (strings and map keys of the form `${…}`). */
  template(step: string, raw: unknown): Template {
    if (typeof raw === 'string') {
      const text = expressionText(raw);
      return text === null
        ? { kind: 'const', value: raw }
        : { kind: 'expr', expr: this.#expression(step, text), text };
    }
    if (Array.isArray(raw)) return { kind: 'list', items: raw.map((item) => this.template(step, item)) };
    if (isRaw(raw)) {
      return {
        kind: 'map',
        entries: Object.entries(raw).map(([key, value]) => {
          const text = expressionText(key);
          return {
            key: text === null ? key : this.#expression(step, text),
            value: this.template(step, value),
          };
        }),
      };
    }
    let value: Value;
    try {
      value = toValue(raw);
    } catch (error) {
      this.fail(step, (error as Error).message);
    }
    return { kind: 'const', value };
  }
}

/** Loads a workflow from source text; `source` names it in error messages. */
export function loadWorkflowText(text: string, source = 'workflow'): Program {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new WorkflowLoadError(source, null, `not valid YAML: ${(error as Error).message}`);
  }
  return new Loader(source).program(doc);
}

export function loadWorkflowFile(path: string): Program {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new WorkflowLoadError(path, null, `cannot read the file: ${(error as Error).message}`);
  }
  return loadWorkflowText(text, path);
}
