/**
 * Which projects a route's backends may live in: the controller's own (its id or its number) or
 * one the configuration allows (ALLOWED_BACKEND_PROJECTS: ids, numbers, or prefixes ending in `*`).
 * A backend anywhere else would put traffic of an allow-listed route into a project nobody agreed
 * to serve it, so a request naming one is refused and the issue names the field. Pure.
 */
import type { RolloutRequest } from './request.ts';
import type { FieldIssue } from './validation.ts';

export interface BackendProjects {
  /** The controller's own project: its id, and its number when known. */
  readonly own: readonly string[];
  /** Configured entries: an id or a number (exact), or a prefix ending in `*`. */
  readonly allowed: readonly string[];
}

/** The project segment of `projects/P/locations/L/backendServices/NAME`, or null for another shape. */
export function backendProject(name: string): string | null {
  const match = /^projects\/([^/]+)\//.exec(name);
  return match?.[1] ?? null;
}

/** Whether `project` is the controller's own or matches an allowed entry. */
export function projectAllowed(project: string, policy: BackendProjects): boolean {
  if (policy.own.includes(project)) return true;
  return policy.allowed.some((entry) =>
    entry.endsWith('*') ? project.startsWith(entry.slice(0, -1)) : entry === project,
  );
}

/** The rule an issue states: which project the backend is in and which ones are allowed. */
export function describeAllowed(project: string | null, policy: BackendProjects): string {
  const allowed = [...policy.own, ...policy.allowed].map((p) => `"${p}"`).join(', ');
  const where = project === null ? 'is not in any project' : `is in project "${project}"`;
  return `${where}; backends must be in the controller's own project or an allowed one (${allowed}; ALLOWED_BACKEND_PROJECTS)`;
}

/** An issue for `name` written at `field`, or null when its project is allowed. */
export function backendIssue(field: string, name: string, policy: BackendProjects): FieldIssue | null {
  const project = backendProject(name);
  if (project !== null && projectAllowed(project, policy)) return null;
  return { field, rule: describeAllowed(project, policy) };
}

/**
 * Every backend the request would have written into a route, by the field that names it: the
 * request's `stable` and `canary` (when some target uses them) and each target's own.
 */
export function backendProjectIssues(request: RolloutRequest, policy: BackendProjects): FieldIssue[] {
  const named: { field: string; name: string }[] = [];
  const targets = request.targets ?? [];
  for (const key of ['stable', 'canary'] as const) {
    const perTarget = targets.map((t) => t[key]);
    if (targets.length === 0 || perTarget.some((name) => name === undefined)) {
      named.push({ field: key, name: request[key] });
    }
    perTarget.forEach((name, i) => {
      if (name !== undefined) named.push({ field: `targets[${i}].${key}`, name });
    });
  }
  return named.flatMap(({ field, name }) => backendIssue(field, name, policy) ?? []);
}
