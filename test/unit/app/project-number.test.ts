/**
 * Backends written with the project number (`projects/<number>/…`) are the same backends as those
 * written with the project id: PROJECT_NUMBER in the configuration, the core's pure rewrite, the
 * request's stable and canary, and the route snapshot the HTTPRoute adapter builds.
 */
import { describe, expect, it } from 'vitest';
import { snapshotOf } from '../../../functions/adapters/route-rules.ts';
import { loadConfig, projectNames } from '../../../functions/app/config.ts';
import { acceptedRequest, withBackendsById } from '../../../functions/app/start-rollout.ts';
import { type ProjectNames, withProjectId } from '../../../functions/core/resource-name.ts';
import { read } from '../../../functions/core/routing/managed-rule.ts';
import { sameBackend } from '../../../functions/core/routing/snapshot.ts';
import { InvalidInputError } from '../../../functions/errors.ts';
import { request, requestInput } from '../../support/fixtures.ts';

const PROJECT: ProjectNames = { id: 'demo-project', number: '123456789012' };
const byId = (name: string) => `projects/demo-project/locations/global/backendServices/${name}`;
const byNumber = (name: string) => `projects/123456789012/locations/global/backendServices/${name}`;

describe('withProjectId (core)', () => {
  it('rewrites projects/<number>/ to projects/<id>/, in relative names and compute URLs', () => {
    expect(withProjectId(byNumber('checkout-v2'), PROJECT)).toBe(byId('checkout-v2'));
    expect(
      withProjectId(
        'https://www.googleapis.com/compute/v1/projects/123456789012/global/backendServices/x',
        PROJECT,
      ),
    ).toBe('https://www.googleapis.com/compute/v1/projects/demo-project/global/backendServices/x');
  });

  it('leaves every other name alone', () => {
    expect(withProjectId(byId('x'), PROJECT)).toBe(byId('x'));
    // Another project's number, and a longer number that starts with this one.
    expect(withProjectId('projects/999/locations/global/backendServices/x', PROJECT)).toBe(
      'projects/999/locations/global/backendServices/x',
    );
    expect(withProjectId('projects/1234567890123/global/backendServices/x', PROJECT)).toBe(
      'projects/1234567890123/global/backendServices/x',
    );
    expect(withProjectId('backendServices/projects/123456789012', PROJECT)).toBe(
      'backendServices/projects/123456789012',
    );
    expect(withProjectId(byNumber('x'), null)).toBe(byNumber('x'));
  });

  it('makes the two spellings one backend for sameBackend', () => {
    expect(sameBackend(byNumber('x'), byId('x'))).toBe(false);
    expect(sameBackend(withProjectId(byNumber('x'), PROJECT), byId('x'))).toBe(true);
  });
});

describe('PROJECT_NUMBER', () => {
  const base = {
    GOOGLE_CLOUD_PROJECT: 'demo-project',
    ALLOWED_ROUTES: 'projects/demo-project/locations/global/httpRoutes/*',
  };

  it('is optional; set, it pairs with GOOGLE_CLOUD_PROJECT', () => {
    expect(loadConfig(base).projectNumber).toBeNull();
    expect(projectNames(loadConfig(base))).toBeNull();
    expect(projectNames(loadConfig({ ...base, PROJECT_NUMBER: '123456789012' }))).toEqual(PROJECT);
  });

  it('must be digits', () => {
    for (const bad of ['demo-project', '12a', '', '-1']) {
      try {
        loadConfig({ ...base, PROJECT_NUMBER: bad });
        throw new Error(`accepted ${JSON.stringify(bad)}`);
      } catch (error) {
        expect(error, bad).toBeInstanceOf(InvalidInputError);
        expect((error as InvalidInputError).problems.map((p) => p.field)).toEqual(['PROJECT_NUMBER']);
      }
    }
  });
});

describe('a rollout request naming backends by project number', () => {
  const numbered = request({ stable: byNumber('checkout-stable'), canary: byNumber('checkout-canary') });

  it('is taken with its stable and canary named by project id', () => {
    const accepted = withBackendsById(numbered, PROJECT);
    expect([accepted.stable, accepted.canary]).toEqual([byId('checkout-stable'), byId('checkout-canary')]);
    expect({ ...accepted, stable: numbered.stable, canary: numbered.canary }).toEqual(numbered);
    expect(withBackendsById(numbered, null)).toEqual(numbered);
  });

  it('is accepted by startRollout with PROJECT_NUMBER set, backends named by id', () => {
    const config = loadConfig({
      GOOGLE_CLOUD_PROJECT: 'demo-project',
      PROJECT_NUMBER: '123456789012',
      ALLOWED_ROUTES: 'projects/demo-project/locations/global/httpRoutes/*',
    });
    const body = requestInput({ stable: byNumber('checkout-stable'), canary: byNumber('checkout-canary') });
    const accepted = acceptedRequest(config, body);
    expect([accepted.stable, accepted.canary]).toEqual([byId('checkout-stable'), byId('checkout-canary')]);
    // Without the number they are kept as written (and the number must be an allowed backend project).
    const unpaired = loadConfig({
      GOOGLE_CLOUD_PROJECT: 'demo-project',
      ALLOWED_ROUTES: config.allowedRoutes[0],
      ALLOWED_BACKEND_PROJECTS: '123456789012',
    });
    expect(acceptedRequest(unpaired, body).stable).toBe(byNumber('checkout-stable'));
  });

  it('is refused when stable and canary are one backend spelled two ways', () => {
    const config = loadConfig({
      GOOGLE_CLOUD_PROJECT: 'demo-project',
      PROJECT_NUMBER: '123456789012',
      ALLOWED_ROUTES: 'projects/demo-project/locations/global/httpRoutes/*',
    });
    const body = requestInput({ stable: byNumber('checkout'), canary: byId('checkout') });
    try {
      acceptedRequest(config, body);
      throw new Error('accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).problems).toEqual([
        { field: 'canary', rule: expect.stringMatching(/^must differ from stable/) },
      ]);
    }
  });

  it('finds a route rule whose destinations name the project by number, and the other way round', () => {
    const route = {
      updateTime: '2026-01-01T00:00:00Z',
      rules: [{ action: { destinations: [{ serviceName: byNumber('checkout-stable'), weight: 100 }] } }],
    };
    const accepted = withBackendsById(request(), PROJECT);
    const target = { stable: accepted.stable, canary: accepted.canary, hint: null, shape: null };
    expect(read(snapshotOf(route), target).kind).toBe('gone');
    expect(read(snapshotOf(route, PROJECT), target)).toMatchObject({
      kind: 'found',
      index: 0,
      weights: { stable: 100, canary: 0 },
    });
    const byNumberRequest = withBackendsById(numbered, PROJECT);
    const idRoute = {
      ...route,
      rules: [{ action: { destinations: [{ serviceName: byId('checkout-stable') }] } }],
    };
    expect(
      read(snapshotOf(idRoute, PROJECT), {
        ...target,
        stable: byNumberRequest.stable,
        canary: byNumberRequest.canary,
      }),
    ).toMatchObject({ kind: 'found', weights: { stable: 100, canary: 0 } });
  });
});
