/**
 * The one way input is validated: a zod schema, its issues turned into `{field, rule}` pairs
 * that name the field a person has to fix, and one sentence built from them. Also the name
 * patterns every entry point shares.
 */
import type { z } from 'zod';

export interface FieldIssue {
  /** Where the problem is, e.g. `steps[2].weight`; `$` for the whole input. */
  readonly field: string;
  readonly rule: string;
}

export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly issues: FieldIssue[] };

/** Rollout ids: what Firestore document ids, Pub/Sub attributes and log labels all accept. */
export const ROLLOUT_ID = /^[a-z0-9][-a-z0-9]{0,62}$/;
export const RESOURCE_ID = '[a-z]([-a-z0-9]{0,61}[a-z0-9])?';
export const PROJECT_ID = '[a-z0-9]([-a-z0-9.:]{0,61}[a-z0-9])?';
export const LOCATION_ID = '[a-z0-9][-a-z0-9]{0,61}';

type ZodIssue = z.core.$ZodIssue;

function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '$' : out;
}

/**
 * Flattens zod issues into field issues. Unknown keys are named one by one; when a value fits
 * no branch of a union, the problems of the branch the author evidently meant (the one with
 * fewest problems) are reported instead of a generic union error.
 */
function collect(issues: readonly ZodIssue[], prefix: readonly PropertyKey[], out: FieldIssue[]): void {
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        out.push({ field: fieldPath([...path, key]), rule: 'is not a known field' });
    } else if (issue.code === 'invalid_union' && issue.errors.length > 0 && path.length > 0) {
      out.push(...closestBranch(issue, path));
    } else {
      out.push({ field: fieldPath(path), rule: issue.message });
    }
  }
}

function closestBranch(issue: ZodIssue & { code: 'invalid_union' }, path: PropertyKey[]): FieldIssue[] {
  const closest = issue.errors.reduce((best, branch) => (branch.length < best.length ? branch : best));
  const branchIssues: FieldIssue[] = [];
  collect(closest, path, branchIssues);
  const onlyShape = branchIssues.every((i) => i.field === fieldPath(path));
  return onlyShape ? [{ field: fieldPath(path), rule: issue.message }] : branchIssues;
}

export function issuesOf(error: z.ZodError): FieldIssue[] {
  const out: FieldIssue[] = [];
  collect(error.issues, [], out);
  return out;
}

export function validate<S extends z.ZodType>(schema: S, value: unknown): Parsed<z.output<S>> {
  const result = schema.safeParse(value);
  return result.success ? { ok: true, value: result.data } : { ok: false, issues: issuesOf(result.error) };
}

/** How much of the input an error may echo: it reaches logs, HTTP answers and events. */
export const ECHO_LIMITS = { field: 200, rule: 1000, issues: 20, message: 2000 } as const;

/**
 * Control characters (C0, DEL, C1) and bidirectional overrides written out as `\uXXXX`, so an
 * echoed value can neither start a fake log entry nor reorder the text a person reads.
 */
export function escapeControls(text: string): string {
  return text.replace(
    /[\p{Cc}\u202a-\u202e\u2066-\u2069]/gu,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** `text` escaped and cut to `max` characters, marked with "…" when cut. */
export function echo(text: string, max: number): string {
  const head = escapeControls(text.length > max * 6 ? text.slice(0, max * 6) : text);
  return head.length <= max ? head : `${head.slice(0, max - 1)}…`;
}

/** At most ECHO_LIMITS.issues issues, each field and rule escaped and bounded. */
export function boundIssues(issues: readonly FieldIssue[]): FieldIssue[] {
  return issues.slice(0, ECHO_LIMITS.issues).map((i) => ({
    field: echo(i.field, ECHO_LIMITS.field),
    rule: echo(i.rule, ECHO_LIMITS.rule),
  }));
}

/** "field rule; field rule", bounded: at most ECHO_LIMITS.issues, then how many more. */
export function describeIssues(issues: readonly FieldIssue[]): string {
  const shown = boundIssues(issues)
    .map((i) => `${i.field} ${i.rule}`)
    .join('; ');
  const more = issues.length - ECHO_LIMITS.issues;
  return more > 0 ? `${shown}; and ${more} more` : shown;
}

/** Why `value` is not a rollout id (bounded, escaped), or null when it is one. */
export function rolloutIdIssue(value: unknown, field = 'rolloutId'): FieldIssue | null {
  if (typeof value === 'string' && ROLLOUT_ID.test(value)) return null;
  const got = typeof value === 'string' ? ` (got "${echo(value, 80)}")` : '';
  return { field, rule: `must be a rollout id: lowercase letters, digits and '-', at most 63${got}` };
}
