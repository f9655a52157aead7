/**
 * UdpSender's pacing, watched turn by turn of the event loop: a sender behind its bitrate sends
 * its next burst in the next turn, not a millisecond later, so `-b` above one burst a millisecond
 * is reached (it stopped near 260 Mbit/s with 1,400-byte datagrams whatever `-b` asked for).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UdpSender } from '../../src/perf/udp-stream.js';

/** nextTurn resolves in the check phase of the event loop's next turn. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('a sender owing more than one burst sends the next one in the next turn of the event loop', async () => {
  let sent = 0;
  let firstBurst: () => void = () => {};
  const burstSent = new Promise<void>((resolve) => {
    firstBurst = resolve;
  });
  const sender = new UdpSender(
    1,
    () => {
      sent += 1;
      if (sent === 32) firstBurst();
      return true;
    },
    () => 0,
    1400,
    1e12, // a terabit per second: always behind
    false,
  );
  sender.start();
  await burstSent;
  const afterFirst = sent;
  await nextTurn();
  await nextTurn();
  sender.stop();
  assert.equal(afterFirst, 32, 'one burst is 32 datagrams');
  assert.ok(sent >= 96, `two turns later ${sent} datagrams were sent, not the 96 of two more bursts`);
});

test('a sender on schedule waits for the pacing timer: a low bitrate is not exceeded', async () => {
  let sent = 0;
  const sender = new UdpSender(
    1,
    () => {
      sent += 1;
      return true;
    },
    () => 0,
    1400,
    8 * 1400 * 1000, // 1,000 datagrams a second: one a millisecond
    false,
  );
  const started = performance.now();
  sender.start();
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 1));
  sender.stop();
  const allowed = Math.ceil(performance.now() - started) + 1;
  assert.ok(sent <= allowed, `${sent} datagrams in ${allowed - 1} ms at one a millisecond`);
  assert.ok(sent > 0, 'some were sent');
});

test('a sender whose send queue is full sends nothing more until it drains', async () => {
  let sent = 0;
  let queued = 64;
  const sender = new UdpSender(
    1,
    () => {
      sent += 1;
      return true;
    },
    () => queued,
    1400,
    0, // unpaced
    false,
  );
  sender.start();
  await nextTurn();
  await nextTurn();
  assert.equal(sent, 0, 'nothing is sent while 64 datagrams wait');
  queued = 0;
  await nextTurn();
  await nextTurn();
  sender.stop();
  assert.ok(sent >= 32, `${sent} sent once the queue drained`);
});
