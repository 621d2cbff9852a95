/**
 * `updateMask` of an HttpRoute patch: top-level paths only (a mask cannot address elements of
 * repeated fields, AIP-161). Listed fields are replaced by the body's (absent there → cleared);
 * without a mask every field is replaced by the body's.
 */
import { invalidArgument } from './api-error.ts';
import type { JsonObject } from './route-validation.ts';

export const MASKABLE_PATHS = ['hostnames', 'rules', 'labels', 'description', 'meshes', 'gateways'] as const;
export type MaskPath = (typeof MASKABLE_PATHS)[number];

/** Fields the API sets itself; a client's values for them are ignored. */
export const OUTPUT_ONLY = ['name', 'selfLink', 'createTime', 'updateTime'] as const;

function isMaskPath(path: string): path is MaskPath {
  return (MASKABLE_PATHS as readonly string[]).includes(path);
}

/** The paths of a mask; null for "no mask" (missing or empty). Throws INVALID_ARGUMENT naming an unknown path. */
export function parseUpdateMask(mask: string | null): readonly MaskPath[] | null {
  if (mask === null || mask.trim() === '') return null;
  return mask.split(',').map((raw) => {
    const path = raw.trim();
    if (!isMaskPath(path)) {
      throw invalidArgument(
        `Invalid update mask path '${path}': an HttpRoute update mask may contain only ${MASKABLE_PATHS.join(', ')}.`,
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
