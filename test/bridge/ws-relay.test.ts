/**
 * relayEndpoints with a WebSocket endpoint: bytes both ways, and each end passed on (a FIN to a
 * close after the data, the WebSocket's close to a FIN).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { formatAddress, parseAddress } from '../../src/address.js';
import { parseEndpoint } from '../../src/bridge/endpoint.js';
import { relayEndpoints } from '../../src/bridge/relay-endpoints.js';
import { listen } from '../../src/stream/listen.js';
import { startEcho } from '../websocket/servers.js';
import { readAll, sha256 } from './peers.js';

test('relay ws:// tcp://: what the TCP side sends comes back through a WebSocket echo, then EOF', {
  timeout: 10_000,
}, async () => {
  const echo = await startEcho();
  const target = await listen(parseAddress('tcp://127.0.0.1:0'));
  const data = randomBytes(2_000_000);
  const got = (async () => {
    const conn = await target.accept();
    await conn.send(data);
    await conn.closeWrite(); // the FIN: the relay closes the WebSocket (1000) after the data
    const back = await readAll(conn); // the echo, then the WebSocket's close as EOF
    conn.close();
    return back;
  })();
  const summary = await relayEndpoints(parseEndpoint(echo.url), parseEndpoint(formatAddress(target.address)));
  const back = await got;
  assert.equal(back.length, data.length);
  assert.equal(back.digest, sha256(data));
  assert.deepEqual(summary, { bytesAToB: data.length, bytesBToA: data.length, complete: true });
  const server = await echo.nextConn();
  assert.equal(server.closeCode, 1000);
  await target.close();
  await echo.close();
});
