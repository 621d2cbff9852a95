/** Whether a rollout's metric sources can measure its route: internalLb never can on a mesh route. */
import { describe, expect, it } from 'vitest';
import { type ChosenSources, metricSourceIssues } from '../../../functions/core/metric-fit.ts';
import type { MetricSource } from '../../../functions/core/request.ts';
import type { RouteAttachments } from '../../../functions/core/routing/snapshot.ts';

const MESH = 'projects/p/locations/global/meshes/m';
const GATEWAY = 'projects/p/locations/global/gateways/g';
const onMesh: RouteAttachments = { meshes: [MESH], gateways: [] };
const lb = (backend: string): MetricSource => ({ preset: 'internalLb', backend });
const run = (service: string): MetricSource => ({ preset: 'cloudRun', service });
const filter: MetricSource = { preset: 'filter', requests: 'metric.type = "a"', errors: 'metric.type = "b"' };

function sources(
  stable: MetricSource,
  canary: MetricSource,
  from: 'request' | 'default' = 'request',
): ChosenSources {
  return { stable: { source: stable, from }, canary: { source: canary, from } };
}

describe('metricSourceIssues', () => {
  it('rejects internalLb on a route attached to a Mesh, naming the field, why, and what to use', () => {
    const issues = metricSourceIssues(sources(run('checkout-v1'), lb('checkout-v2')), onMesh);
    expect(issues).toEqual([{ field: 'analysis.metrics.canary', rule: expect.any(String) }]);
    const rule = issues[0]?.rule ?? '';
    expect(rule).toMatch(/^must not use preset "internalLb" on a route attached to Mesh /);
    expect(rule).toContain(MESH);
    expect(rule).toContain("the mesh's clients balance its traffic themselves");
    expect(rule).toContain(
      'internal_http_lb_rule metrics exist only for Google-managed internal Application Load Balancers',
    );
    expect(rule).toContain('"preset": "cloudRun"');
    expect(rule).toContain('"preset": "filter"');
  });

  it('names each backend whose source is internalLb, and says when the controller default chose it', () => {
    const issues = metricSourceIssues(sources(lb('s'), lb('c'), 'default'), {
      meshes: [MESH],
      gateways: [GATEWAY],
    });
    expect(issues.map((i) => i.field)).toEqual(['analysis.metrics.stable', 'analysis.metrics.canary']);
    for (const issue of issues) {
      expect(issue.rule).toMatch(
        /^is not set, and the controller's default for this backend is preset "internalLb", which cannot be used on a route attached to Mesh /,
      );
    }
  });

  it('accepts cloudRun and filter sources on a mesh route', () => {
    expect(metricSourceIssues(sources(run('s'), run('c')), onMesh)).toEqual([]);
    expect(metricSourceIssues(sources(filter, filter, 'default'), onMesh)).toEqual([]);
  });

  it('accepts internalLb on a route attached only to Gateways, or to nothing', () => {
    expect(metricSourceIssues(sources(lb('s'), lb('c')), { meshes: [], gateways: [GATEWAY] })).toEqual([]);
    expect(metricSourceIssues(sources(lb('s'), lb('c')), { meshes: [], gateways: [] })).toEqual([]);
  });
});
