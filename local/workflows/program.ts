/** The loaded, validated form of a workflow, as the interpreter runs it. */
import type { Expr } from './expression.ts';
import type { Value } from './values.ts';

/** A YAML value with its `${…}` expressions parsed; evaluated when the step runs. */
export type Template =
  | { readonly kind: 'const'; readonly value: Value }
  | { readonly kind: 'expr'; readonly expr: Expr; readonly text: string }
  | { readonly kind: 'list'; readonly items: readonly Template[] }
  | {
      readonly kind: 'map';
      readonly entries: readonly { readonly key: string | Expr; readonly value: Template }[];
    };

/** The left side of an assignment: `name`, `name.key`, `name["key"]`, `name[i]`, … */
export interface AssignTarget {
  readonly variable: string;
  readonly path: readonly Expr[];
  readonly text: string;
}

export type CallTarget =
  | 'http.get'
  | 'http.post'
  | 'http.put'
  | 'http.patch'
  | 'http.delete'
  | 'http.request'
  | 'sys.sleep'
  | 'sys.log';

export type RetryPredicate = 'default' | 'non_idempotent' | 'always' | 'never';

export interface RetryPolicy {
  readonly predicate: RetryPredicate;
  readonly maxRetries: Template;
  readonly initialDelay: Template;
  readonly maxDelay: Template;
  readonly multiplier: Template;
}

export interface SwitchCondition {
  readonly condition: Template;
  readonly next: string | null;
  readonly steps: readonly Step[] | null;
  readonly returns: Template | null;
  readonly raises: Template | null;
}

export type StepBody =
  | {
      readonly kind: 'assign';
      readonly items: readonly { readonly target: AssignTarget; readonly value: Template }[];
      readonly next: string | null;
    }
  | {
      readonly kind: 'call';
      readonly target: CallTarget;
      readonly args: Template | null;
      readonly result: string | null;
      readonly next: string | null;
    }
  | { readonly kind: 'switch'; readonly conditions: readonly SwitchCondition[]; readonly next: string | null }
  | { readonly kind: 'return'; readonly value: Template }
  | { readonly kind: 'raise'; readonly value: Template }
  | { readonly kind: 'steps'; readonly steps: readonly Step[]; readonly next: string | null }
  | {
      readonly kind: 'try';
      readonly body: readonly Step[];
      readonly retry: RetryPolicy | null;
      readonly except: { readonly as: string | null; readonly steps: readonly Step[] } | null;
      readonly next: string | null;
    }
  | { readonly kind: 'jump'; readonly next: string };

export interface Step {
  readonly name: string;
  readonly body: StepBody;
}

export interface Program {
  /** Where it was loaded from, for messages. */
  readonly source: string;
  /** The parameter `main` binds the execution argument to (Workflows allows at most one). */
  readonly param: string | null;
  readonly steps: readonly Step[];
}
