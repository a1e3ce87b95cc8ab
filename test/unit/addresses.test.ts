import { describe, expect, it } from 'vitest';
import { addressKind, ipv6Bytes } from '../../protocol/addresses.ts';
import { SwitchyardError } from '../../protocol/errors.ts';
import { ensurePushEndpoint } from '../../protocol/push-targets.ts';

describe('IP address literals', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['1.1.1.1', 'public'],
    ['100.63.255.255', 'public'],
    ['100.128.0.0', 'public'],
    ['172.15.255.255', 'public'],
    ['172.32.0.0', 'public'],
    ['223.255.255.255', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['0.0.0.0', 'internal'],
    ['10.1.2.3', 'internal'],
    ['100.64.0.1', 'internal'],
    ['169.254.169.254', 'internal'],
    ['172.16.0.1', 'internal'],
    ['172.31.255.255', 'internal'],
    ['192.0.0.8', 'internal'],
    ['192.0.2.1', 'internal'],
    ['192.88.99.1', 'internal'],
    ['192.168.1.1', 'internal'],
    ['198.19.0.1', 'internal'],
    ['198.51.100.7', 'internal'],
    ['203.0.113.9', 'internal'],
    ['224.0.0.1', 'internal'],
    ['255.255.255.255', 'internal'],
    ['2606:4700::1111', 'public'],
    ['[2a00:1450:4001:80b::200a]', 'public'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::', 'internal'],
    ['::ffff:127.0.0.1', 'internal'],
    ['[::ffff:7f00:1]', 'internal'],
    ['::ffff:8.8.8.8', 'internal'],
    ['64:ff9b::a00:1', 'internal'],
    ['fd00::1', 'internal'],
    ['fe80::1', 'internal'],
    ['ff02::1', 'internal'],
    ['2001::1', 'internal'],
    ['2001:db8::1', 'internal'],
    ['2002:a00:1::1', 'internal'],
  ])('%s is %s', (host, kind) => {
    expect(addressKind(host)).toBe(kind);
  });

  it.each([
    'push.example',
    'localhost',
    '1.2.3',
    '1.2.3.4.5',
    '01.2.3.4',
    '256.1.1.1',
    '1:2:3',
    '1::2::3',
    ':::',
    'g::1',
    '1.2.3.4::',
    '::1%eth0',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4::5:6:7:8',
  ])('%s is not an address literal', (host) => {
    expect(addressKind(host)).toBeUndefined();
  });

  it('reads IPv6 groups, compressed or not, with an IPv4 tail', () => {
    expect(ipv6Bytes('1:2:3:4:5:6:7:8')).toEqual([0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]);
    expect(ipv6Bytes('abcd::1.2.3.4')).toEqual([0xab, 0xcd, ...new Array(10).fill(0), 1, 2, 3, 4]);
    expect(ipv6Bytes('1:2:3:4:5:6::')).toEqual([0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 0, 0, 0]);
  });
});

describe('a push endpoint', () => {
  const refused = (endpoint: string, allowLoopback: boolean) => {
    expect(() => ensurePushEndpoint(endpoint, allowLoopback)).toThrow(SwitchyardError);
  };

  it('is an https URL on a DNS name or a public address', () => {
    for (const endpoint of [
      'https://fcm.googleapis.com/fcm/send/abc',
      'https://8.8.8.8/push',
      'https://[2606:4700::1111]:8443/up?token=1',
    ])
      expect(ensurePushEndpoint(endpoint, false)).toBe(endpoint);
  });

  it('never points into the server’s own network: private, link-local, unique local, mapped', () => {
    for (const endpoint of [
      'https://10.0.0.5/x',
      'https://169.254.169.254/latest/meta-data/',
      'https://192.168.1.1/x',
      'https://[fd00::1]/x',
      'https://[::ffff:a00:5]/x',
      'https://0.0.0.0/x',
    ]) {
      refused(endpoint, false);
      refused(endpoint, true);
    }
  });

  it('is on a loopback host only where the server allows it, with http too', () => {
    for (const endpoint of [
      'https://127.0.0.1/x',
      'https://localhost/x',
      'https://push.localhost/x',
      'http://127.0.0.1:8080/x',
      'http://localhost:8080/x',
      'http://[::1]:8080/x',
    ]) {
      refused(endpoint, false);
      expect(ensurePushEndpoint(endpoint, true)).toBe(endpoint);
    }
    refused('http://push.example/x', true);
    refused('http://8.8.8.8/x', true);
  });
});
