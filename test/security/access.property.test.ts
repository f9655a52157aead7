/**
 * Property-based tests (fast-check) of the CIDR rules: AccessRules (Node's BlockList) must agree
 * with a plain bit-mask computation for every network, prefix and address, in IPv4 and IPv6.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { AccessRules, parseCidr } from '../../src/security/access.js';

const runs = { numRuns: 1000 };

const v4 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const v6 = fc.bigInt({ min: 0n, max: 2n ** 128n - 1n });
const formatV4 = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
const formatV6 = (n: bigint): string =>
  Array.from({ length: 8 }, (_, i) => ((n >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(':');
const inV4 = (net: number, prefix: number, ip: number): boolean =>
  prefix === 0 || net >>> (32 - prefix) === ip >>> (32 - prefix);
const inV6 = (net: bigint, prefix: number, ip: bigint): boolean =>
  prefix === 0 || net >> BigInt(128 - prefix) === ip >> BigInt(128 - prefix);

describe('CIDR rules (properties)', () => {
  test('an IPv4 allow rule admits exactly the addresses inside its network', () => {
    fc.assert(
      fc.property(v4, fc.integer({ min: 0, max: 32 }), v4, (net, prefix, ip) => {
        const rules = new AccessRules([parseCidr(`${formatV4(net)}/${prefix}`)], []);
        assert.equal(rules.permits(formatV4(ip)), inV4(net, prefix, ip));
      }),
      runs,
    );
  });

  test('an IPv4 address inside the network is admitted, whatever its host bits', () => {
    fc.assert(
      fc.property(v4, fc.integer({ min: 0, max: 32 }), v4, (net, prefix, host) => {
        const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
        const ip = ((net & mask) | (host & ~mask)) >>> 0;
        const rules = new AccessRules([parseCidr(`${formatV4(net)}/${prefix}`)], []);
        assert.ok(rules.permits(formatV4(ip)));
      }),
      runs,
    );
  });

  test('an IPv6 deny rule refuses exactly the addresses inside its network', () => {
    fc.assert(
      fc.property(v6, fc.integer({ min: 0, max: 128 }), v6, (net, prefix, ip) => {
        const rules = new AccessRules([], [parseCidr(`${formatV6(net)}/${prefix}`)]);
        assert.equal(rules.permits(formatV6(ip)), !inV6(net, prefix, ip));
      }),
      runs,
    );
  });

  test('deny wins over allow for an address both cover', () => {
    fc.assert(
      fc.property(v4, fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 32 }), (ip, a, d) => {
        const cidr = (p: number) => parseCidr(`${formatV4(ip)}/${p}`);
        assert.equal(new AccessRules([cidr(a)], [cidr(d)]).permits(formatV4(ip)), false);
      }),
      runs,
    );
  });

  test('an IPv4-mapped IPv6 peer is judged as its IPv4 address', () => {
    fc.assert(
      fc.property(v4, fc.integer({ min: 0, max: 32 }), v4, (net, prefix, ip) => {
        const rules = new AccessRules([parseCidr(`${formatV4(net)}/${prefix}`)], []);
        assert.equal(rules.permits(`::ffff:${formatV4(ip)}`), rules.permits(formatV4(ip)));
      }),
      runs,
    );
  });

  test('rules of one family never admit through an allow list of the other', () => {
    fc.assert(
      fc.property(v4, fc.integer({ min: 0, max: 32 }), v6, (net, prefix, ip) => {
        const rules = new AccessRules([parseCidr(`${formatV4(net)}/${prefix}`)], []);
        // An IPv6 peer that is not IPv4-mapped is outside every IPv4 network.
        fc.pre(!formatV6(ip).startsWith('0:0:0:0:0:ffff:'));
        assert.equal(rules.permits(formatV6(ip)), false);
      }),
      runs,
    );
  });

  test('parseCidr refuses any prefix longer than the address', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 33, max: 999 }), (ip, prefix) => {
        assert.throws(() => parseCidr(`${ip}/${prefix}`), /invalid prefix length/);
      }),
      runs,
    );
    fc.assert(
      fc.property(fc.ipV6(), fc.integer({ min: 129, max: 999 }), (ip, prefix) => {
        assert.throws(() => parseCidr(`${ip}/${prefix}`), /invalid prefix length/);
      }),
      runs,
    );
  });
});
