/**
 * `updateMask` of a route patch (any kind; each kind's maskable fields are in route-kinds.ts): top-level paths only (a mask cannot address elements of
 * repeated fields, AIP-161). Listed fields are replaced by the body's (absent there → cleared);
 * without a mask every field is replaced by the body's.
 */
import { invalidArgument } from './api-error.ts';
import { KINDS, type KindSpec } from './route-kinds.ts';
import type { JsonObject } from './validation-basics.ts';

/** A top-level field of the route a mask names. */
export type MaskPath = string;

/** Fields the API sets itself; a client's values for them are ignored. */
export const OUTPUT_ONLY = ['name', 'selfLink', 'createTime', 'updateTime'] as const;

/** The paths of a mask; null for "no mask" (missing or empty). Throws INVALID_ARGUMENT naming an unknown path. */
export function parseUpdateMask(
  mask: string | null,
  kind: KindSpec = KINDS.httpRoutes,
): readonly MaskPath[] | null {
  if (mask === null || mask.trim() === '') return null;
  return mask.split(',').map((raw) => {
    const path = raw.trim();
    if (!kind.maskable.includes(path)) {
      throw invalidArgument(
        `Invalid update mask path '${path}': a${kind.type.startsWith('Http') ? 'n' : ''} ${kind.type} update mask may contain only ${kind.maskable.join(', ')}.`,
      );
    }
    return path;
  });
}

function withoutOutputOnly(route: JsonObject): JsonObject {
  const copy: JsonObject = { ...route };
  for (const field of OUTPUT_ONLY) delete copy[field];
  return copy;
}

/** The route's writable fields after the patch (output-only fields are the caller's to set). */
export function applyMask(
  current: JsonObject,
  body: JsonObject,
  mask: readonly MaskPath[] | null,
): JsonObject {
  if (mask === null) return structuredClone(withoutOutputOnly(body));
  const next = structuredClone(withoutOutputOnly(current));
  for (const path of mask) {
    if (body[path] === undefined || body[path] === null) delete next[path];
    else next[path] = structuredClone(body[path]);
  }
  return next;
}
