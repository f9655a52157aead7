/** DatagramGuard judges each datagram by its sender: access rules, and a rate per IP address. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AccessRules, parseCidr } from '../../src/security/access.js';
import { DatagramGuard } from '../../src/security/datagram-guard.js';
import type { LimitEvent } from '../../src/security/limit-event.js';

describe('DatagramGuard', () => {
  test('admits at most maxPerIp datagrams from one address in a second, others unaffected', () => {
    const events: LimitEvent[] = [];
    const guard = new DatagramGuard({ maxPerIp: 3 }, (e) => events.push(e));
    const from = (address: string, port = 5000) => guard.admit({ address, port });
    assert.deepEqual(
      [1, 2, 3, 4, 5].map(() => from('10.0.0.1')),
      [true, true, true, false, false],
    );
    // Another port of the same address shares its budget; another address has its own.
    assert.equal(from('10.0.0.1', 6000), false);
    assert.equal(from('10.0.0.2'), true);
    // An IPv4-mapped IPv6 sender is the same IPv4 address.
    assert.equal(from('::ffff:10.0.0.1'), false);
    assert.equal(guard.stats.dropped['max-per-ip'], 4);
    assert.equal(events[0]?.limit, 'max-per-ip');
    assert.equal(events[0]?.peer, '10.0.0.1:5000');
    assert.equal(events[0]?.detail, 'dropped: over 3 datagrams this second from 10.0.0.1');
    assert.deepEqual(events[0]?.option, { name: 'maxPerIp', value: 3 });
  });

  test('drops datagrams from denied or not-allowed senders, IPv4 and IPv6', () => {
    const access = new AccessRules(
      [parseCidr('10.0.0.0/8'), parseCidr('fd00::/8')],
      [parseCidr('10.9.0.0/16')],
    );
    const events: LimitEvent[] = [];
    const guard = new DatagramGuard({ access }, (e) => events.push(e));
    assert.equal(guard.admit({ address: '10.1.2.3', port: 1 }), true);
    assert.equal(guard.admit({ address: '10.9.2.3', port: 1 }), false);
    assert.equal(guard.admit({ address: '192.0.2.1', port: 1 }), false);
    assert.equal(guard.admit({ address: 'fd12::1', port: 1 }), true);
    assert.equal(guard.admit({ address: '2001:db8::1', port: 1 }), false);
    assert.equal(guard.stats.dropped.access, 3);
    assert.equal(events[0]?.detail, 'dropped: 10.9.2.3 is not allowed');
    assert.deepEqual(events[0]?.option, { name: 'access' });
  });

  test('a rate that is not a positive whole number is a RangeError', () => {
    assert.throws(() => new DatagramGuard({ maxPerIp: 0 }), RangeError);
  });
});
