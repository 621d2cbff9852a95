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

export function describeIssues(issues: readonly FieldIssue[]): string {
  return issues.map((i) => `${i.field} ${i.rule}`).join('; ');
}
