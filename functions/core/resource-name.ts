/** The last segment of a full resource name: `projects/p/locations/global/httpRoutes/checkout` → `checkout`. */
export function lastSegment(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}
