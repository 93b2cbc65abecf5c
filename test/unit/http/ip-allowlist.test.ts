import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../../src/config/env.js';
import { IpRangeError, createIpSet, parseAddress, resolveClientIp } from '../../../src/http/plugins/ip-allowlist.js';

describe('createIpSet', () => {
  const set = createIpSet(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32', '::1'], 'WEBHOOK_IP_ALLOWLIST');

  test('matches IPv4 addresses and subnets', () => {
    assert.equal(set.has('10.200.3.4'), true);
    assert.equal(set.has('192.0.2.7'), true);
    assert.equal(set.has('192.0.2.8'), false);
    assert.equal(set.has('11.0.0.1'), false);
  });

  test('matches IPv6 addresses and subnets, in any spelling', () => {
    assert.equal(set.has('2001:db8:ffff::1'), true);
    assert.equal(set.has('2001:0db8:0000:0000:0000:0000:0000:0001'), true);
    assert.equal(set.has('0:0:0:0:0:0:0:1'), true);
    assert.equal(set.has('2001:db9::1'), false);
    assert.equal(set.has('::2'), false);
  });

  test('IPv4-mapped IPv6 addresses match their IPv4 rules, dotted or hex', () => {
    assert.equal(set.has('::ffff:10.0.0.1'), true);
    assert.equal(set.has('::ffff:a00:1'), true);
    assert.equal(set.has('::ffff:192.0.2.7'), true);
    assert.equal(set.has('::ffff:11.0.0.1'), false);
  });

  test('a port, brackets or a zone id do not hide the address; junk never matches', () => {
    assert.equal(set.has('10.1.1.1:4567'), true);
    assert.equal(set.has('[2001:db8::5]:443'), true);
    assert.equal(set.has('[::1]'), true);
    assert.equal(set.has('not-an-ip'), false);
    assert.equal(set.has(''), false);
    assert.equal(set.has(undefined), false);
  });

  test('an empty set matches nothing', () => {
    assert.equal(createIpSet([], 'TRUSTED_PROXIES').has('127.0.0.1'), false);
  });

  test('a bad entry throws IpRangeError naming the variable and the entry', () => {
    for (const entry of ['10.0.0.0/33', '2001:db8::/129', '10.0.0/8', 'fe80::1::2', '10.0.0.0/8/1', '10.0.0.0/x', 'host.example']) {
      assert.throws(
        () => createIpSet(['10.0.0.0/8', entry], 'WEBHOOK_IP_ALLOWLIST'),
        (error: unknown) => error instanceof IpRangeError && error.code === 'IP_RANGE_INVALID' && error.message.startsWith('WEBHOOK_IP_ALLOWLIST:') && error.entry === entry,
        entry,
      );
    }
  });
});

describe('parseAddress', () => {
  test('strips ports, brackets and zone ids', () => {
    assert.equal(parseAddress(' 203.0.113.9:1234 '), '203.0.113.9');
    assert.equal(parseAddress('[2001:db8::1]:8443'), '2001:db8::1');
    assert.equal(parseAddress('fe80::1%eth0'), 'fe80::1');
    assert.equal(parseAddress('::ffff:10.0.0.1'), '::ffff:10.0.0.1');
    assert.equal(parseAddress('unknown'), undefined);
    assert.equal(parseAddress('1.2.3.4.5'), undefined);
  });
});

describe('resolveClientIp', () => {
  const proxies = createIpSet(['127.0.0.1', '10.0.0.0/8'], 'TRUSTED_PROXIES');

  test('without a trusted peer the socket address is the client, whatever X-Forwarded-For says', () => {
    assert.equal(resolveClientIp('198.51.100.4', '203.0.113.9', proxies), '198.51.100.4');
    assert.equal(resolveClientIp('198.51.100.4', undefined, createIpSet([], 'TRUSTED_PROXIES')), '198.51.100.4');
    assert.equal(resolveClientIp('127.0.0.1', '203.0.113.9', createIpSet([], 'TRUSTED_PROXIES')), '127.0.0.1');
  });

  test('behind a trusted peer, the right-most hop that is not a trusted proxy is the client', () => {
    assert.equal(resolveClientIp('127.0.0.1', '203.0.113.9', proxies), '203.0.113.9');
    // A client-forged left part is ignored; our own proxies on the right are skipped.
    assert.equal(resolveClientIp('127.0.0.1', '192.0.2.1, 203.0.113.9, 10.1.2.3', proxies), '203.0.113.9');
    assert.equal(resolveClientIp('127.0.0.1', ['192.0.2.1, 203.0.113.9', '10.1.2.3'], proxies), '203.0.113.9');
    assert.equal(resolveClientIp('::ffff:127.0.0.1', '2001:db8::7', proxies), '2001:db8::7');
    assert.equal(resolveClientIp('127.0.0.1', '[2001:db8::7]:5555', proxies), '2001:db8::7');
  });

  test('a trusted peer with no header, or only trusted hops, resolves to the left-most known address', () => {
    assert.equal(resolveClientIp('127.0.0.1', undefined, proxies), '127.0.0.1');
    assert.equal(resolveClientIp('127.0.0.1', '10.0.0.5, 10.0.0.6', proxies), '10.0.0.5');
  });

  test('an unreadable nearest untrusted hop, or no peer, resolves to undefined (refused by an allowlist)', () => {
    assert.equal(resolveClientIp('127.0.0.1', '203.0.113.9, garbage', proxies), undefined);
    assert.equal(resolveClientIp(undefined, '203.0.113.9', proxies), undefined);
  });
});

describe('TRUSTED_PROXIES and PUBLIC_RATE_LIMIT in the environment', () => {
  test('defaults: no trusted proxy, 600 requests a minute', () => {
    const config = loadConfig({});
    assert.deepEqual(config.TRUSTED_PROXIES, []);
    assert.deepEqual(config.PUBLIC_RATE_LIMIT, { max: 600, windowMs: 60_000 });
  });

  test('parsed when valid, and a bad value names the variable', () => {
    const config = loadConfig({ TRUSTED_PROXIES: ' 10.0.0.0/8, ::1 ,', PUBLIC_RATE_LIMIT: '30/10' });
    assert.deepEqual(config.TRUSTED_PROXIES, ['10.0.0.0/8', '::1']);
    assert.deepEqual(config.PUBLIC_RATE_LIMIT, { max: 30, windowMs: 10_000 });
    assert.throws(() => loadConfig({ TRUSTED_PROXIES: '10.0.0.0/40' }), /^ConfigError: TRUSTED_PROXIES: each entry must be an IP address or CIDR/);
    assert.throws(() => loadConfig({ TRUSTED_PROXIES: 'proxy.internal' }), /TRUSTED_PROXIES/);
    assert.throws(() => loadConfig({ PUBLIC_RATE_LIMIT: 'lots' }), /PUBLIC_RATE_LIMIT: expected N\/seconds/);
  });
});
