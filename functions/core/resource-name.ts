/** The last segment of a full resource name: `projects/p/locations/global/httpRoutes/checkout` → `checkout` (a trailing `/` is ignored). */
export function lastSegment(name: string): string {
  const trimmed = name.replace(/\/+$/, '');
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}
