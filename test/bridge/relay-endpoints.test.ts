/** relayEndpoints, read as a specification: two active endpoints joined both ways until both are done. */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { formatAddress, type SocketAddress } from '../../src/address.js';
import { type Endpoint, parseEndpoint } from '../../src/bridge/endpoint.js';
import { relayEndpoints } from '../../src/bridge/relay-endpoints.js';
import { MiB } from '../../src/units.js';
import { sink } from '../stream/pair.js';
import { busyTarget, echoTarget, sha256 } from './peers.js';

const socket = (address: SocketAddress): Endpoint => ({ kind: 'socket', address });

describe('relayEndpoints', () => {
  test('joins two servers: what one sends comes back from the other, byte for byte', {
    timeout: 20_000,
  }, async () => {
    const talker = await busyTarget('tcp://127.0.0.1:0', 4 * MiB);
    const echo = await echoTarget('unix:@sockkit-relay-test-echo');
    const summary = await relayEndpoints(socket(talker.listener.address), socket(echo.address));
    await Promise.all([talker.listener.close(), echo.close()]);
    assert.equal(summary.complete, true);
    assert.equal(summary.bytesAToB, 4 * MiB);
    assert.equal(summary.bytesBToA, 4 * MiB);
    await talker.receivedFrom(1);
    assert.deepEqual(talker.received, [{ digest: sha256(talker.data), length: 4 * MiB }]);
  });

  test('a program sees the socket it serves in its environment, and its end reaches the socket', {
    timeout: 10_000,
  }, async () => {
    const echo = await echoTarget('tcp://127.0.0.1:0');
    const url = formatAddress(echo.address);
    const input = new PassThrough();
    const { output, bytes } = sink();
    // The program speaks to the echo server; the echo comes back as its stdin, which it copies out.
    input.end();
    const summary = await relayEndpoints(
      parseEndpoint('sh:echo "peer $SOCKKIT_REMOTE_PORT"; exec 1>&-; cat >&2'),
      socket(echo.address),
      { stdio: { input, output } },
    );
    await echo.close();
    assert.equal(summary.complete, true);
    assert.equal(summary.bytesAToB, `peer ${url.split(':').at(-1)}\n`.length);
    assert.equal(bytes().length, 0, 'stdio was not one of the two');
  });

  test('joins stdin and stdout to a socket', { timeout: 10_000 }, async () => {
    const echo = await echoTarget('tcp://127.0.0.1:0');
    const input = new PassThrough();
    const { output, bytes } = sink();
    input.end('round trip');
    const summary = await relayEndpoints({ kind: 'stdio' }, socket(echo.address), {
      stdio: { input, output },
    });
    await echo.close();
    assert.equal(bytes().toString(), 'round trip');
    assert.equal(summary.complete, true);
  });

  test('an endpoint that cannot be opened rejects, and the program on the other side is never started', {
    timeout: 10_000,
  }, async () => {
    await assert.rejects(
      relayEndpoints(
        parseEndpoint('exec:touch /nonexistent-dir/never'),
        parseEndpoint('unix:@sockkit-nobody-here'),
      ),
      { name: 'ConnectionRefusedError', message: /^connect unix:@sockkit-nobody-here: / },
    );
  });
});
