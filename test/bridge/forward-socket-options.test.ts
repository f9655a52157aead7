/**
 * forward's socket options, read back from the kernel (getsockopt, through python3): `tcp` on the
 * clients it accepts, `targetTcp` on its connections to the targets, each side its own.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAddress, type SocketAddress } from '../../src/address.js';
import { type BridgePair, forward } from '../../src/bridge/forward.js';
import { dial } from '../../src/stream/dial.js';
import { type KernelSocketOptions, socketOptions } from '../socket-probe.js';
import { echoTarget, exchange } from './peers.js';

test('forward sets `tcp` on each accepted client and `targetTcp` on its target connection', {
  timeout: 10_000,
}, async () => {
  const echo = await echoTarget('tcp://127.0.0.1:0');
  const controller = new AbortController();
  // Read in onPair, while both sockets are open (the probe takes their descriptors at once).
  const probes: Promise<[KernelSocketOptions, KernelSocketOptions, string | undefined]>[] = [];
  const fwd = await forward(parseAddress('tcp://127.0.0.1:0'), [{ kind: 'socket', address: echo.address }], {
    signal: controller.signal,
    tcp: { keepAlive: 9000, noDelay: false },
    targetTcp: { keepAlive: 7000, noDelay: true, localAddress: '127.0.0.2' },
    onPair: (pair: BridgePair) => {
      assert.ok(pair.upstream, 'the target is a socket');
      const local = pair.upstream.socket.localAddress;
      probes.push(
        Promise.all([socketOptions(pair.client.socket), socketOptions(pair.upstream.socket), local]),
      );
      return undefined;
    },
  });
  try {
    const echoed = await exchange(await dial(fwd.addresses[0] as SocketAddress), Buffer.from('through'));
    assert.equal(echoed.length, 7);
    assert.equal(probes.length, 1);
    const [accepted, upstream, local] = await (probes[0] as (typeof probes)[0]);
    const wanted = (o: KernelSocketOptions) => [o.nodelay, o.keepalive, o.keepidle];
    assert.deepEqual(wanted(accepted), [false, true, 9], 'the accepted client');
    assert.deepEqual(wanted(upstream), [true, true, 7], 'the connection to the target');
    assert.equal(local, '127.0.0.2');
  } finally {
    controller.abort();
    await fwd.done;
    await echo.close();
  }
});
