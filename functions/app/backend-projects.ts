/**
 * The backend-project check of the configuration (ALLOWED_BACKEND_PROJECTS) on a rollout request
 * and on an operator's abort that names a canary: a backend outside the controller's own project
 * and the allowed ones is refused, naming the field (core/backend-projects.ts).
 */
import { type BackendProjects, backendIssue, backendProjectIssues } from '../core/backend-projects.ts';
import type { RolloutRequest } from '../core/request.ts';
import type { FieldIssue } from '../core/validation.ts';
import { InvalidInputError } from '../errors.ts';
import type { Config } from './config.ts';

const HINT =
  "name backends in the controller's own project or one listed in ALLOWED_BACKEND_PROJECTS (docs/configuration.md), and send again";

/** The controller's own project (id and number) and the configured ones. */
export function backendProjectsOf(config: Config): BackendProjects {
  const own = config.projectNumber === null ? [config.project] : [config.project, config.projectNumber];
  return { own, allowed: config.allowedBackendProjects };
}

/** Throws INVALID_REQUEST naming every backend of the request outside the allowed projects. */
export function allowedBackends(config: Config, request: RolloutRequest): void {
  refuse(
    'rollout request rejected',
    'INVALID_REQUEST',
    backendProjectIssues(request, backendProjectsOf(config)),
  );
}

/** Throws INVALID_COMMAND when an abort's `canary` is outside the allowed projects. */
export function allowedCommandCanary(config: Config, canary: string | undefined): void {
  if (canary === undefined) return;
  const issue = backendIssue('canary', canary, backendProjectsOf(config));
  refuse('control command rejected', 'INVALID_COMMAND', issue === null ? [] : [issue]);
}

function refuse(what: string, code: string, issues: readonly FieldIssue[]): void {
  if (issues.length === 0) return;
  throw InvalidInputError.fromIssues(what, issues, { code, hint: HINT });
}
