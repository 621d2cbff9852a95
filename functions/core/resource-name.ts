/**
 * Google resource names as the controller compares them: their last segment, and the project
 * written as its id where it was written as its number (`projects/123456789/…`), which Google
 * APIs accept interchangeably. Pure: the id and number come from the caller's configuration.
 */

/** The last segment of a full resource name: `projects/p/locations/global/httpRoutes/checkout` → `checkout` (a trailing `/` is ignored). */
export function lastSegment(name: string): string {
  const trimmed = name.replace(/\/+$/, '');
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** The two spellings of one project in resource names. */
export interface ProjectNames {
  readonly id: string;
  /** Digits only. */
  readonly number: string;
}

/**
 * `name` with a `projects/<number>/` segment (at the start or after a `/`, as in a full compute
 * URL) rewritten to `projects/<id>/`; any other name unchanged, and every name when `project` is
 * null. `projects/123456789/locations/global/backendServices/x` → `projects/my-project/…`.
 */
export function withProjectId(name: string, project: ProjectNames | null): string {
  if (project === null || !/^\d+$/.test(project.number)) return name;
  const numbered = new RegExp(`(^|/)projects/${project.number}/`);
  return name.replace(numbered, `$1projects/${project.id}/`);
}
