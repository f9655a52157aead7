import assert from 'node:assert/strict';
import { test } from 'node:test';
import { localAddressFor, pseudoFor } from '../../src/raw/local-address.js';

test('the kernel picks a local address for a destination without sending anything', async () => {
  assert.equal(await localAddressFor('127.0.0.1', 4), '127.0.0.1');
  assert.equal(await localAddressFor('::1', 6), '::1');
});

test('the ICMPv6 pseudo-header addresses pair the local address with the destination', async () => {
  assert.deepEqual(await pseudoFor('::1', 6), { source: '::1', destination: '::1' });
  assert.equal(await pseudoFor('127.0.0.1', 4), undefined);
});
