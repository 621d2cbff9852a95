/** GrpcRoute, TcpRoute and TlsRoute selection (pure): method/header matching, CIDR and port, SNI and ALPN. */
import { describe, expect, it } from 'vitest';
import { grpcMethodOf, methodMatches, selectGrpc } from '../../../local/mesh/grpc-match.ts';
import { cidrContains, selectTcp, selectTls, tlsMatchScore } from '../../../local/mesh/stream-match.ts';

describe('GrpcRoute matching', () => {
  it('reads service and method from :path', () => {
    expect(grpcMethodOf('/demo.Checkout/Quote')).toEqual({ service: 'demo.Checkout', method: 'Quote' });
    expect(grpcMethodOf('/demo.Checkout')).toBeNull();
  });

  it('compares EXACT names with or without case, REGULAR_EXPRESSION over the whole name', () => {
    const name = { service: 'demo.Checkout', method: 'Quote' };
    expect(methodMatches({ grpcService: 'demo.Checkout', grpcMethod: 'Quote' }, name)).toBe(true);
    expect(methodMatches({ grpcService: 'demo.checkout' }, name)).toBe(false);
    expect(methodMatches({ grpcService: 'demo.checkout', caseSensitive: false }, name)).toBe(true);
    expect(methodMatches({ type: 'REGULAR_EXPRESSION', grpcMethod: 'Quo' }, name)).toBe(false);
    expect(
      methodMatches({ type: 'REGULAR_EXPRESSION', grpcMethod: 'quo.*', caseSensitive: false }, name),
    ).toBe(true);
  });

  it('picks the most specific hostname, then the first rule whose method and headers hold', () => {
    const routes = [
      { name: 'wild', hostnames: ['*.internal'], rules: [{}] },
      {
        name: 'exact',
        hostnames: ['checkout.internal'],
        rules: [
          { matches: [{ method: { grpcMethod: 'Ping' }, headers: [{ key: 'X-Env', value: 'canary' }] }] },
          { matches: [{ headers: [{ key: 'x-env', type: 'REGULAR_EXPRESSION', value: 'can.*' }] }] },
        ],
      },
    ];
    const call = (path: string, headers: Record<string, string>) =>
      selectGrpc(routes, { authority: 'checkout.internal:443', path, headers });
    expect(call('/demo.Checkout/Ping', { 'x-env': 'canary' })).toMatchObject({ kind: 'rule', ruleIndex: 0 });
    expect(call('/demo.Checkout/Quote', { 'x-env': 'canary' })).toMatchObject({ kind: 'rule', ruleIndex: 1 });
    expect(call('/demo.Checkout/Quote', {})).toMatchObject({ kind: 'noRule' });
    expect(selectGrpc(routes, { authority: 'x.internal', path: '/a.B/C', headers: {} })).toMatchObject({
      kind: 'rule',
      route: { name: 'wild' },
    });
    expect(selectGrpc(routes, { authority: 'example.com', path: '/a.B/C', headers: {} }).kind).toBe(
      'noRoute',
    );
  });
});

describe('TcpRoute and TlsRoute matching', () => {
  it('holds an address in a CIDR of its family only', () => {
    expect(cidrContains('10.0.0.0/24', '10.0.0.10')).toBe(true);
    expect(cidrContains('10.0.1.0/24', '10.0.0.10')).toBe(false);
    expect(cidrContains('10.0.0.10', '10.0.0.10')).toBe(true);
    expect(cidrContains('fd00::/64', 'fd00::1')).toBe(true);
    expect(cidrContains('fd00::/64', '10.0.0.10')).toBe(false);
    expect(cidrContains('10.0.0.0/33', '10.0.0.10')).toBe(false);
  });

  it('selects the first TCP rule whose address and port match', () => {
    const routes = [
      { name: 'a', rules: [{ matches: [{ address: '10.0.0.0/8', port: '5433' }] }] },
      { name: 'b', rules: [{ matches: [{ address: '10.0.0.0/8', port: '5432' }] }, {}] },
    ];
    expect(selectTcp(routes, { address: '10.0.0.10', port: 5432 })).toMatchObject({
      route: { name: 'b' },
      ruleIndex: 0,
    });
    expect(selectTcp(routes, { address: '192.168.0.1', port: 5432 })).toMatchObject({
      route: { name: 'b' },
      ruleIndex: 1,
    });
    expect(selectTcp(routes.slice(0, 1), { address: '192.168.0.1', port: 5432 })).toBeNull();
  });

  it('prefers an exact SNI over a wildcard over an ALPN-only match', () => {
    const hello = { sni: 'db.internal', alpn: ['postgresql'] };
    expect(tlsMatchScore({ alpn: ['postgresql'] }, hello)).toBe(0);
    expect(tlsMatchScore({ sniHost: ['db.internal'], alpn: ['h2'] }, hello)).toBe(-1);
    const routes = [
      { name: 'alpn', rules: [{ matches: [{ alpn: ['postgresql'] }] }] },
      { name: 'wild', rules: [{ matches: [{ sniHost: ['*.internal'] }] }] },
      { name: 'exact', rules: [{ matches: [{ sniHost: ['DB.internal'] }] }] },
    ];
    expect(selectTls(routes, hello)).toMatchObject({ route: { name: 'exact' } });
    expect(selectTls(routes.slice(0, 2), hello)).toMatchObject({ route: { name: 'wild' } });
    expect(selectTls(routes.slice(0, 1), { sni: '', alpn: ['postgresql'] })).toMatchObject({
      route: { name: 'alpn' },
    });
    expect(selectTls(routes.slice(1), { sni: '', alpn: [] })).toBeNull();
  });
});
