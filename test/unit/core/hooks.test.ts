/** Where hooks may point: the URL policy the request validation and the caller apply. */
import { describe, expect, it } from 'vitest';
import {
  hookUrlIssues,
  isMetadataHost,
  isPrivateAddress,
  PRODUCTION_HOOK_POLICY,
} from '../../../functions/core/hooks.ts';

const LOCAL = { allowHttp: true, allowPrivate: true };

describe('hookUrlIssues', () => {
  it('production needs https on a public host', () => {
    expect(hookUrlIssues('https://hooks.example.com/smoke', PRODUCTION_HOOK_POLICY)).toEqual([]);
    expect(hookUrlIssues('http://hooks.example.com/smoke', PRODUCTION_HOOK_POLICY)).toEqual([
      'must use https',
    ]);
    expect(hookUrlIssues('ftp://hooks.example.com/', PRODUCTION_HOOK_POLICY)).toEqual(['must use https']);
    expect(hookUrlIssues('/smoke', PRODUCTION_HOOK_POLICY)).toEqual(['must be an absolute URL']);
  });

  it('never credentials in the URL, in either policy', () => {
    for (const policy of [PRODUCTION_HOOK_POLICY, LOCAL]) {
      expect(hookUrlIssues('https://user:secret@hooks.example.com/', policy)).toEqual([
        expect.stringMatching(/must not carry a user or password/),
      ]);
      expect(hookUrlIssues('https://token@hooks.example.com/', policy)).toHaveLength(1);
    }
  });

  it('never the metadata server, in either policy', () => {
    for (const host of [
      'metadata.google.internal',
      'METADATA.google.internal',
      'metadata',
      'metadata.goog',
    ]) {
      for (const policy of [PRODUCTION_HOOK_POLICY, LOCAL]) {
        expect(hookUrlIssues(`https://${host}/computeMetadata/v1/`, policy), host).toEqual([
          'must not point at the metadata server',
        ]);
      }
    }
  });

  it('never the metadata server by address or a trailing-dot name, in either policy (also the local one)', () => {
    for (const url of [
      'http://169.254.169.254/computeMetadata/v1/',
      'https://169.254.169.254/computeMetadata/v1/',
      'http://2852039166/computeMetadata/v1/',
      'http://[::ffff:169.254.169.254]/',
      'http://[::ffff:a9fe:a9fe]/',
      'http://metadata.google.internal./computeMetadata/v1/',
    ]) {
      for (const policy of [PRODUCTION_HOOK_POLICY, LOCAL]) {
        expect(hookUrlIssues(url, policy), url).toContain('must not point at the metadata server');
      }
    }
    // Other link-local addresses are private: refused in production, allowed in the local cloud.
    expect(hookUrlIssues('https://169.254.1.1/', PRODUCTION_HOOK_POLICY)).toEqual([
      'must not point at a private, loopback or link-local address',
    ]);
    expect(hookUrlIssues('http://169.254.1.1/', LOCAL)).toEqual([]);
  });

  it('production refuses private, loopback and link-local literals and localhost', () => {
    for (const host of [
      '10.0.0.1',
      '172.16.0.1',
      '192.168.1.1',
      '127.0.0.1',
      '[::1]',
      '[fd00::1]',
      '[fe80::1]',
      'localhost',
      'api.localhost',
      '[::ffff:10.0.0.1]',
    ]) {
      expect(hookUrlIssues(`https://${host}/`, PRODUCTION_HOOK_POLICY), host).toEqual([
        'must not point at a private, loopback or link-local address',
      ]);
    }
  });

  it('the local policy allows plain http and private hosts (the local cloud)', () => {
    expect(hookUrlIssues('http://127.0.0.1:8080/hook', LOCAL)).toEqual([]);
    expect(hookUrlIssues('http://localhost:8080/hook', LOCAL)).toEqual([]);
    expect(hookUrlIssues('ws://127.0.0.1/', LOCAL)).toEqual(['must use https or http']);
  });
});

describe('isPrivateAddress', () => {
  it.each([
    '0.0.0.0',
    '10.0.0.0',
    '10.255.255.255',
    '127.0.0.1',
    '100.64.0.1',
    '169.254.169.254',
    '172.16.0.0',
    '172.31.255.255',
    '192.168.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    'fc00::1',
    'fdff::1',
    'fe80::1',
    'febf::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:169.254.169.254',
    '::FFFF:10.1.1.1',
    '::ffff:a00:1',
    '::ffff:7f00:1',
    '0:0:0:0:0:ffff:a9fe:a9fe',
    '0:0:0:0:0:0:0:1',
    '0000::0001',
    '::127.0.0.1',
    '64:ff9b::a9fe:a9fe',
    'fe80::1%eth0',
    'not:an:address::::',
  ])('%s is private', (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each([
    '8.8.8.8',
    '172.15.255.255',
    '172.32.0.0',
    '192.167.1.1',
    '169.253.0.1',
    '100.63.255.255',
    '100.128.0.0',
    '11.0.0.1',
    '2001:4860:4860::8888',
    'fec0::1',
    '::ffff:8.8.8.8',
    '::ffff:808:808',
    '2600:1f18::1',
    'hooks.example.com',
  ])('%s is not private', (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });
});

describe('isMetadataHost', () => {
  it.each(['169.254.169.254', '::ffff:169.254.169.254', '64:ff9b::a9fe:a9fe', 'metadata.goog.', 'Metadata'])(
    '%s is the metadata server',
    (host) => expect(isMetadataHost(host)).toBe(true),
  );
  it.each(['169.254.169.253', '10.0.0.1', '::1', 'metadata.example.com'])('%s is not', (host) =>
    expect(isMetadataHost(host)).toBe(false),
  );
});
