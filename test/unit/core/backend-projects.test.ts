/**
 * Backend projects (core/backend-projects.ts, app/backend-projects.ts): a request's stable and
 * canary backends, and an abort's canary, must be in the controller's own project (id or number)
 * or an allowed one; otherwise the request is refused naming the field, and `plan` (checkRequest)
 * reports it with every other problem.
 */
import { describe, expect, it } from 'vitest';
import { allowedCommandCanary } from '../../../functions/app/backend-projects.ts';
import { loadConfig } from '../../../functions/app/config.ts';
import { control } from '../../../functions/app/control.ts';
import { createLogger } from '../../../functions/app/log.ts';
import { checkRequest } from '../../../functions/app/start-rollout.ts';
import {
  type BackendProjects,
  backendProject,
  backendProjectIssues,
  projectAllowed,
} from '../../../functions/core/backend-projects.ts';
import { InvalidInputError } from '../../../functions/errors.ts';
import { backendName, newRollout, request, requestInput, routeName } from '../../support/fixtures.ts';
import { MemoryMetrics, MemoryRouter, MemoryStore, memoryExecutor } from '../../support/memory-ports.ts';

const POLICY: BackendProjects = {
  own: ['demo-project', '123456789012'],
  allowed: ['shared-net', 'team-*', '42'],
};
const elsewhere = (project: string, name: string) =>
  `projects/${project}/locations/global/backendServices/${name}`;
const ATTACKER = elsewhere('attacker-project', 'x');

describe('backend projects', () => {
  it('reads the project of a backend name', () => {
    expect(backendProject(ATTACKER)).toBe('attacker-project');
    expect(backendProject('backendServices/x')).toBeNull();
  });

  it('allows the own project by id or number, listed ids and numbers, and prefixes', () => {
    for (const p of ['demo-project', '123456789012', 'shared-net', 'team-a', 'team-', '42']) {
      expect(projectAllowed(p, POLICY), p).toBe(true);
    }
    for (const p of ['attacker-project', 'shared-net2', 'team', '421', 'demo-project-2', '12345678901']) {
      expect(projectAllowed(p, POLICY), p).toBe(false);
    }
  });

  it('accepts a request whose backends are all in allowed projects', () => {
    const r = request({ stable: elsewhere('team-x', 's'), canary: elsewhere('42', 'c') });
    expect(backendProjectIssues(r, POLICY)).toEqual([]);
  });

  it("names the request's canary, and each target's own backend, with the allowed projects", () => {
    expect(backendProjectIssues(request({ canary: ATTACKER }), POLICY)).toEqual([
      { field: 'canary', rule: expect.stringContaining('is in project "attacker-project"') },
    ]);
    const r = request({
      route: undefined,
      targets: [
        { route: routeName('a'), canary: ATTACKER },
        { route: routeName('b'), stable: elsewhere('evil', 's') },
      ],
    });
    const issues = backendProjectIssues(r, POLICY);
    expect(issues.map((i) => i.field)).toEqual(['targets[1].stable', 'targets[0].canary']);
    expect(issues[0]?.rule).toContain('"demo-project", "123456789012", "shared-net", "team-*", "42"');
  });

  it("does not check the request's backend that every target replaces (it is written nowhere)", () => {
    const r = request({
      route: undefined,
      canary: ATTACKER,
      targets: [{ route: routeName('a'), canary: backendName('c') }],
    });
    expect(backendProjectIssues(r, POLICY)).toEqual([]);
  });
});

describe('start checks and the abort command', () => {
  const env = {
    GOOGLE_CLOUD_PROJECT: 'demo-project',
    ALLOWED_ROUTES: 'projects/demo-project/locations/global/httpRoutes/*',
  };
  const config = loadConfig(env);

  it('refuses a canary in another project with INVALID_REQUEST, collected with the other problems', () => {
    const checked = checkRequest(
      config,
      requestInput({ canary: ATTACKER, route: routeName('x').replace('demo-project', 'other') }),
    );
    expect(checked.kind).toBe('parsed');
    if (checked.kind !== 'parsed') return;
    const refused = checked.problems.find(
      (p) => p instanceof InvalidInputError && p.problems.some((i) => i.field === 'canary'),
    );
    expect(refused?.code).toBe('INVALID_REQUEST');
    expect(refused?.message).toContain('canary is in project "attacker-project"');
    expect(refused?.message).toContain('ALLOWED_BACKEND_PROJECTS');
    expect(checked.problems.length).toBeGreaterThan(1);
  });

  it('accepts it once the project is allowed', () => {
    const allowed = loadConfig({ ...env, ALLOWED_BACKEND_PROJECTS: 'attacker-*' });
    const checked = checkRequest(allowed, requestInput({ canary: ATTACKER }));
    expect(checked.kind === 'parsed' ? checked.problems : ['invalid']).toEqual([]);
  });

  it('refuses an abort whose canary is in another project, naming `canary`', () => {
    expect(() => allowedCommandCanary(config, ATTACKER)).toThrow(/canary is in project "attacker-project"/);
    expect(() => allowedCommandCanary(config, backendName('c'))).not.toThrow();
    expect(() => allowedCommandCanary(config, undefined)).not.toThrow();
  });

  it('control refuses such an abort before reading the rollout or touching the route', async () => {
    const { rollout, entry } = newRollout('r1');
    const store = new MemoryStore();
    await store.create(rollout, entry);
    const router = new MemoryRouter(rollout.weights);
    const none = { kind: 'noData', reason: 'none' } as const;
    const metrics = new MemoryMetrics({ stable: none, canary: none });
    const executor = memoryExecutor({ store, router, metrics, clock: { now: Date.UTC(2026, 11, 1) } });
    const deps = {
      store,
      executor,
      router: async () => router,
      config,
      log: createLogger({}, () => {}),
      startRetry: async () => {
        throw new Error('no retry here');
      },
    };
    const abort = {
      rolloutId: 'r1',
      command: 'abort',
      actor: 'ann',
      reason: '',
      route: routeName(),
      canary: ATTACKER,
    } as const;
    const refused = await control(deps, { request: abort }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InvalidInputError);
    expect(refused).toMatchObject({ code: 'INVALID_COMMAND', problems: [{ field: 'canary' }] });
    expect((await store.get('r1'))?.version).toBe(rollout.version);
    expect(router.route).toEqual(new MemoryRouter(rollout.weights).route);
  });
});
