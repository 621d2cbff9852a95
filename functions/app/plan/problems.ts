/** How plan names a problem and a check it could not make. */
import { type ControllerError, InvalidInputError } from '../../errors.ts';
import type { NotChecked, PlanProblem, PlanSection } from './report.ts';

export function problemOf(section: PlanSection, error: ControllerError): PlanProblem {
  const fields = error instanceof InvalidInputError && error.problems.length > 0 ? error.problems : undefined;
  return {
    section,
    code: error.code,
    message: error.message,
    hint: error.hint,
    ...(fields === undefined ? {} : { fields }),
  };
}

export function notChecked(why: string): NotChecked {
  return { checked: false, why };
}

export function isNotChecked(value: unknown): value is NotChecked {
  return typeof value === 'object' && value !== null && (value as { checked?: unknown }).checked === false;
}
