import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAddress } from '../../src/address.js';
import { packetOptionsOf } from '../../src/cli/options/packet.js';

test('datagram flags become PacketOptions for a udp:// address', () => {
  const options = packetOptionsOf('listen', parseAddress('udp://0.0.0.0:5000'), {
    broadcast: true,
    join: ['239.1.2.3', 'ff15::1'],
    multicastTtl: 4,
    multicastLoopback: false,
    multicastInterface: '10.0.0.1',
    receiveBuffer: 4_194_304,
  });
  assert.deepEqual(options, {
    broadcast: true,
    join: ['239.1.2.3', 'ff15::1'],
    multicastTtl: 4,
    multicastLoopback: false,
    multicastInterface: '10.0.0.1',
    receiveBufferSize: 4_194_304,
  });
});

test('datagram flags give a stream address no datagram options', () => {
  // Given on the command line with a stream address they are refused: scheme-flags.test.ts.
  assert.deepEqual(packetOptionsOf('listen', parseAddress('tcp://127.0.0.1:0'), {}), {});
});

test('a group that is not multicast is caught while the flags are read', () => {
  assert.throws(() => packetOptionsOf('send', parseAddress('udp://127.0.0.1:7'), { join: ['127.0.0.1'] }), {
    code: 'ERR_USAGE',
  });
});
