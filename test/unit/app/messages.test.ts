import { describe, expect, it } from 'vitest';
import { parseIncident, selectorFor } from '../../../functions/app/alert.ts';
import { gradualOf, parseControl } from '../../../functions/app/control.ts';
import {
  jsonOf,
  MAX_MESSAGE_BYTES,
  messageFromEvent,
  messageIdOf,
} from '../../../functions/app/pubsub-message.ts';
import { InvalidInputError } from '../../../functions/errors.ts';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');

describe('Pub/Sub messages inside CloudEvents', () => {
  it('reads the Eventarc messagePublished shape', () => {
    const m = messageFromEvent({
      id: '11',
      source: '//pubsub.googleapis.com/projects/p/topics/rollout-requests',
      data: { message: { data: b64({ a: 1 }), messageId: '11', attributes: { k: 'v' }, publishTime: 't' } },
    });
    expect(m).toMatchObject({
      messageId: '11',
      topic: 'rollout-requests',
      attributes: { k: 'v' },
      publishTime: 't',
    });
    expect(jsonOf(m)).toEqual({ a: 1 });
  });

  it('reads the raw push envelope functions-framework passes through for attribute-only messages', () => {
    const m = messageFromEvent({ subscription: 's', message: { attributes: { a: 'b' }, messageId: '12' } });
    expect(m.messageId).toBe('12');
    expect(() => jsonOf(m)).toThrow(/no data/);
  });

  it('rejects events without a message, non-base64 data, oversized data and non-JSON', () => {
    expect(() => messageFromEvent({ data: { something: 'else' } })).toThrow(InvalidInputError);
    expect(() => messageFromEvent({ data: { message: { data: 42 } } })).toThrow(/base64/);
    const big = 'A'.repeat(Math.ceil((MAX_MESSAGE_BYTES * 4) / 3) + 100);
    expect(() => messageFromEvent({ data: { message: { data: big, messageId: '1' } } })).toThrow(
      /larger than/,
    );
    const m = messageFromEvent({
      data: { message: { data: Buffer.from('<xml/>').toString('base64'), messageId: '2' } },
    });
    expect(() => jsonOf(m)).toThrow(/not JSON/);
  });

  it('accepts exactly MAX_MESSAGE_BYTES of data and refuses one byte more, whatever the padding', () => {
    for (const size of [MAX_MESSAGE_BYTES - 1, MAX_MESSAGE_BYTES]) {
      const data = Buffer.alloc(size, 7).toString('base64');
      expect(messageFromEvent({ data: { message: { data, messageId: 'ok' } } }).data.byteLength).toBe(size);
    }
    for (const size of [MAX_MESSAGE_BYTES + 1, MAX_MESSAGE_BYTES + 2, MAX_MESSAGE_BYTES + 3]) {
      const data = Buffer.alloc(size, 7).toString('base64');
      expect(() => messageFromEvent({ data: { message: { data, messageId: 'big' } } })).toThrow(
        /larger than/,
      );
    }
  });

  it('finds the message id of an event it cannot use', () => {
    expect(messageIdOf({ data: { message: { data: 42, messageId: '77' } } })).toBe('77');
    expect(messageIdOf({ message: { message_id: '78' } })).toBe('78');
    expect(messageIdOf({ id: 'ce-1', data: {} })).toBe('ce-1');
    expect(messageIdOf({ data: { something: 'else' } })).toBeNull();
  });
});

describe('Monitoring incidents', () => {
  const incident = {
    version: '1.2',
    incident: {
      incident_id: '0.abc',
      state: 'open',
      started_at: 1_700_000_000,
      ended_at: null,
      policy_name: 'canary-5xx',
      policy_user_labels: { rollout_route: 'checkout' },
      condition_name: '5xx ratio',
      resource: { type: 'cloud_run_revision', labels: { service_name: 'checkout-canary' } },
      threshold_value: '0.05',
      observed_value: '0.12',
      summary: '5xx ratio above 5%',
    },
  };

  it('parses the v1.2 notification and prefers explicit policy labels', () => {
    const parsed = parseIncident(incident);
    expect(parsed).toMatchObject({ incidentId: '0.abc', state: 'open', policy: 'canary-5xx' });
    expect(parsed.summary).toBe('5xx ratio above 5% (observed 0.12, threshold 0.05)');
    expect(selectorFor(parsed)).toEqual({ routeName: 'checkout' });
  });

  it('falls back to the resource of the incident', () => {
    const unlabelled = parseIncident({ incident: { ...incident.incident, policy_user_labels: null } });
    expect(selectorFor(unlabelled)).toEqual({ canaryService: 'checkout-canary' });
    const lb = (labels: Record<string, string>) =>
      parseIncident({
        incident: {
          ...incident.incident,
          policy_user_labels: {},
          resource: { type: 'internal_http_lb_rule', labels },
        },
      });
    // The backend service is backend_target_name; backend_name is the backend group (a NEG).
    const labels = {
      backend_name: 'canary-neg',
      backend_target_name: 'b',
      backend_target_type: 'BACKEND_SERVICE',
    };
    expect(selectorFor(lb(labels))).toEqual({ canaryName: 'b' });
    expect(selectorFor(lb({ backend_target_name: 'b' }))).toEqual({ canaryName: 'b' });
    expect(selectorFor(lb({ backend_name: 'canary-neg' }))).toBeNull();
    expect(selectorFor(lb({ ...labels, backend_target_type: 'BACKEND_BUCKET' }))).toBeNull();
    const nothing = parseIncident({
      incident: { ...incident.incident, policy_user_labels: {}, resource: null },
    });
    expect(selectorFor(nothing)).toBeNull();
  });

  it('rejects anything that is not an incident, naming the field', () => {
    expect(() => parseIncident({ incident: { state: 'burning' } })).toThrow(/incident.incident_id/);
    expect(() => parseIncident('hello')).toThrow(InvalidInputError);
  });
});

describe('control commands', () => {
  it('accepts the documented shape and rejects anything else with the field named', () => {
    expect(parseControl({ rolloutId: 'r1', command: 'pause', actor: 'ann@example.com' })).toEqual({
      rolloutId: 'r1',
      command: 'pause',
      actor: 'ann@example.com',
      reason: '',
    });
    expect(() => parseControl({ rolloutId: 'r1', command: 'explode', actor: 'a' })).toThrow(
      /command must be one of/,
    );
    expect(() => parseControl({ rolloutId: 'r1', command: 'pause' })).toThrow(/actor is required/);
    expect(() => parseControl({ rolloutId: 'r1', command: 'pause', actor: 'a', sudo: true })).toThrow(
      /sudo is not a known field/,
    );
  });

  it('takes an abort that names a route of any of the four kinds, and names all four when the route is bad', () => {
    const base = { rolloutId: 'r1', command: 'abort', actor: 'ann' } as const;
    const canary = 'projects/p/locations/global/backendServices/pay-canary';
    for (const kind of ['httpRoutes', 'grpcRoutes', 'tcpRoutes', 'tlsRoutes']) {
      const route = `projects/p/locations/global/${kind}/pay`;
      expect(parseControl({ ...base, route, canary })).toMatchObject({ route, canary });
    }
    expect(() =>
      parseControl({ ...base, route: 'projects/p/locations/global/udpRoutes/pay', canary }),
    ).toThrow(/route must be a full route name \(HTTPRoute, GRPCRoute, TCPRoute or TLSRoute\)/);
  });

  it('takes a gradual abort with its hold (60 s when not given) and rejects bad ones naming the field', () => {
    const base = { rolloutId: 'r1', command: 'abort', actor: 'ann' } as const;
    const gradual = parseControl({ ...base, gradual: true, hold: '2m' });
    expect(gradual).toMatchObject({ gradual: true, hold: '2m' });
    expect(gradualOf(gradual)).toEqual({ holdMs: 120_000 });
    expect(gradualOf(parseControl({ ...base, gradual: true }))).toEqual({ holdMs: 60_000 });
    expect(gradualOf(parseControl({ ...base, gradual: false }))).toBeNull();
    expect(gradualOf(parseControl(base))).toBeNull();
    const rejected = (body: Record<string, unknown>): string => {
      try {
        parseControl({ ...base, ...body });
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidInputError);
        return (error as InvalidInputError).message;
      }
      throw new Error('expected the command to be rejected');
    };
    expect(rejected({ gradual: true, hold: 'soon' })).toMatch(
      /hold must be a whole number followed by s, m or h/,
    );
    expect(rejected({ gradual: true, hold: '2h' })).toMatch(/hold must be at most 3600s/);
    expect(rejected({ gradual: true, hold: 60 })).toMatch(/hold must be a duration string/);
    expect(rejected({ gradual: 'yes' })).toMatch(/gradual must be true or false/);
    expect(rejected({ hold: '1m' })).toMatch(/hold is only for a gradual abort/);
    expect(rejected({ command: 'pause', gradual: true })).toMatch(/gradual is only for the abort command/);
    expect(
      rejected({
        gradual: true,
        route: 'projects/p/locations/global/httpRoutes/checkout',
        canary: 'projects/p/locations/global/backendServices/checkout-v2',
      }),
    ).toMatch(/gradual cannot be combined with route and canary/);
  });
});
