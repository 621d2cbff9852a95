/**
 * Which TcpRoute or TlsRoute rule a connection selects (pure; no I/O).
 *
 * TCP. A mesh client matches the address and port the application dialled (the service's
 * virtual IP and port). Locally the application dials the listener, so each TCP listener
 * stands for one virtual `address:port` (its options) and a rule matches when one of its
 * `matches` has an `address` CIDR holding that address (IPv4 or IPv6; a bare address is a
 * single host) and the same `port`; a rule without matches matches every connection. Routes
 * and rules are tried in order (the first matching rule of the first route that has one).
 *
 * TLS. The ClientHello's SNI and ALPN list, read without terminating TLS: a match holds when
 * its `sniHost` (exact or `*.suffix`, as HTTP hostnames) includes the SNI — or is empty — and
 * its `alpn` includes one of the offered protocols — or is empty. Across every rule of every
 * route the most specific SNI match wins (exact, then the longer wildcard, then a match on
 * ALPN only), ties going to the earlier rule, as Envoy orders filter chains by server name.
 */
import { BlockList, isIP } from 'node:net';
import type { TcpRoute, TlsRoute } from '../network-services/route-feed.ts';
import { hostnameScore, normalizeHost } from './match.ts';

export type TcpRule = NonNullable<TcpRoute['rules']>[number];
export type TcpMatch = NonNullable<TcpRule['matches']>[number];
export type TlsRule = NonNullable<TlsRoute['rules']>[number];
export type TlsMatch = NonNullable<TlsRule['matches']>[number];

export interface VirtualAddress {
  readonly address: string;
  readonly port: number;
}

export interface TcpSelection {
  readonly route: TcpRoute;
  readonly ruleIndex: number;
  readonly rule: TcpRule;
}

export interface TlsSelection {
  readonly route: TlsRoute;
  readonly ruleIndex: number;
  readonly rule: TlsRule;
}

export interface ClientHelloView {
  /** Server name (SNI); '' when the client sent none. */
  readonly sni: string;
  readonly alpn: readonly string[];
}

/** Whether `cidr` ("10.0.0.0/8", "fd00::/64" or a bare address) holds `address`. */
export function cidrContains(cidr: string, address: string): boolean {
  const [base = '', bits] = cidr.trim().split('/');
  const family = isIP(base);
  if (family === 0 || isIP(address) !== family) return false;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) return false;
  const list = new BlockList();
  list.addSubnet(base, prefix, type);
  return list.check(address, type);
}

export function tcpMatchHolds(match: TcpMatch, target: VirtualAddress): boolean {
  if (typeof match.address !== 'string' || !cidrContains(match.address, target.address)) return false;
  return match.port === String(target.port);
}

/** The first rule (of the first route) matching the connection; null when none does. */
export function selectTcp(routes: readonly TcpRoute[], target: VirtualAddress): TcpSelection | null {
  for (const route of routes) {
    const rules = route.rules ?? [];
    for (let ruleIndex = 0; ruleIndex < rules.length; ruleIndex += 1) {
      const rule = rules[ruleIndex];
      if (rule === undefined) continue;
      const matches = rule.matches ?? [];
      if (matches.length === 0 || matches.some((m) => tcpMatchHolds(m, target))) {
        return { route, ruleIndex, rule };
      }
    }
  }
  return null;
}

/** How specifically a TLS match holds: -1 not at all, 0 on ALPN only, else the SNI score + 1. */
export function tlsMatchScore(match: TlsMatch, hello: ClientHelloView): number {
  const alpn = match.alpn ?? [];
  if (alpn.length > 0 && !alpn.some((p) => hello.alpn.includes(p))) return -1;
  const hosts = match.sniHost ?? [];
  if (hosts.length === 0) return 0;
  if (hello.sni === '') return -1;
  const sni = normalizeHost(hello.sni);
  const best = Math.max(-1, ...hosts.map((h) => hostnameScore(h, sni)));
  return best < 0 ? -1 : best + 1;
}

/** The most specific matching rule across every route; null when none matches. */
export function selectTls(routes: readonly TlsRoute[], hello: ClientHelloView): TlsSelection | null {
  let best: TlsSelection | null = null;
  let bestScore = -1;
  for (const route of routes) {
    (route.rules ?? []).forEach((rule, ruleIndex) => {
      const score = Math.max(-1, ...(rule.matches ?? []).map((m) => tlsMatchScore(m, hello)));
      if (score > bestScore) {
        best = { route, ruleIndex, rule };
        bestScore = score;
      }
    });
  }
  return best;
}
