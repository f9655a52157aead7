import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serviceNamed, services } from '../../src/services/index.js';

test('the registry holds the five classic services, each with a stream and a datagram handler', () => {
  assert.deepEqual(Object.keys(services), ['echo', 'discard', 'chargen', 'daytime', 'time']);
  const ports = Object.values(services).map((s) => [s.name, s.rfc, s.port]);
  assert.deepEqual(ports, [
    ['echo', 'RFC 862', 7],
    ['discard', 'RFC 863', 9],
    ['chargen', 'RFC 864', 19],
    ['daytime', 'RFC 867', 13],
    ['time', 'RFC 868', 37],
  ]);
  for (const service of Object.values(services)) {
    assert.equal(typeof service.stream, 'function');
    assert.equal(typeof service.datagram, 'function');
  }
});

test('serviceNamed finds a service by name and nothing else', () => {
  assert.equal(serviceNamed('chargen')?.port, 19);
  assert.equal(serviceNamed('toString'), undefined);
  assert.equal(serviceNamed('qotd'), undefined);
});
