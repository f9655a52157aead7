'use strict';
// exercise.cjs drives every entry point of the addon on loopback, for a memory checker
// (scripts/memcheck-udp-batch.sh runs it under valgrind): every size class, full batches,
// the send queue's limit and compaction, refused sends, an ICMP error, close with sends queued,
// close inside a receive callback, sockets closed inside another's delivery pass, and GSO runs
// (equal sizes, a shorter last, the segment and payload limits, mixed destinations) on and off,
// received with GRO (messages cut at every boundary, a batch's worth per call) and without.
// Exits 0 when every datagram came back intact; prints one line per step.
const dgram = require('node:dgram');
const assert = require('node:assert/strict');
const { UdpBatch, constants, totals } = require('..');

const META = constants.META_ENTRY;
const sizes = [0, 1, 63, 64, 1472, 9000, 65507];

function bound(type, host) {
  const socket = dgram.createSocket(type);
  return new Promise((resolve) => socket.bind(0, host, () => resolve(socket)));
}
function handleOf(socket) {
  const key = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  return socket[key].handle;
}
function pattern(size, seed) {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i += 1) data[i] = (i * 31 + seed) & 0xff;
  return data;
}
/** open wraps a bound socket; `each(data, length, port, host, batch)` sees every datagram. */
function open(socket, batchSize, limit, each, onError = (e) => assert.fail(`errno ${e}`)) {
  const handle = handleOf(socket);
  handle.recvStop();
  const batch = new UdpBatch(
    handle.fd,
    batchSize,
    limit,
    (count, data, start) => {
      const meta = new DataView(batch.meta);
      let offset = start;
      for (let i = 0; i < count; i += 1) {
        const length = meta.getUint32(i * META, true);
        const port = meta.getUint16(i * META + 4, true);
        const text = Buffer.from(batch.meta, i * META + constants.META_TEXT, meta.getUint8(i * META + 7));
        each(data.subarray(offset, offset + length), length, port, text.toString('latin1'), batch);
        offset += length;
      }
      assert.ok(offset <= data.length, 'the batch lies inside the buffer');
    },
    onError,
  );
  return batch;
}

async function echoRound(type, host) {
  const server = await bound(type, host);
  const client = await bound(type, host);
  const echo = open(server, 4, 8, (data, _length, port, from, batch) => {
    const queued = batch.enqueue(data, port, from);
    assert.ok(queued > 0, `enqueue ${queued}`);
    process.nextTick(() => batch.flush());
  });
  // Ping-pong, one datagram in flight (so the receive buffer never overflows), then a burst of
  // small ones that arrive in batches.
  const plan = [...sizes, ...sizes, ...Array.from({ length: 40 }, (_, i) => i)];
  let next = 0;
  let finished;
  const all = new Promise((resolve) => {
    finished = resolve;
  });
  const back = open(client, 64, 64, (data, length) => {
    assert.ok(data.equals(pattern(plan[next], next)), `datagram ${next} of ${length} bytes differs`);
    next += 1;
    if (next === plan.length) finished();
    else if (next < sizes.length * 2) sendNext();
  });
  const sendNext = () => {
    back.enqueue(pattern(plan[next], next), server.address().port, host);
    process.nextTick(() => back.flush());
  };
  sendNext();
  await new Promise((resolve) => {
    const wait = () => (next >= sizes.length * 2 ? resolve() : setImmediate(wait));
    wait();
  });
  for (let i = sizes.length * 2; i < plan.length; i += 1)
    back.enqueue(pattern(plan[i], i), server.address().port, host);
  back.flush();
  await all;
  echo.close();
  back.close(() => {});
  await new Promise((resolve) => setImmediate(resolve));
  server.close();
  client.close();
  console.log(`echo ${type}: ${plan.length} datagrams of 0 to 65507 bytes came back intact`);
}

async function refusedAndQueued() {
  const dead = await bound('udp4', '127.0.0.1');
  const port = dead.address().port;
  await new Promise((resolve) => dead.close(resolve));
  const socket = await bound('udp4', '127.0.0.1');
  await new Promise((resolve) => socket.connect(port, '127.0.0.1', resolve));
  const errors = [];
  let refused;
  const seen = new Promise((resolve) => {
    refused = resolve;
  });
  const batch = open(
    socket,
    2,
    3,
    () => {},
    (errno) => {
      errors.push(errno);
      refused();
    },
  );
  assert.equal(batch.sendNow(Buffer.from('ping'), undefined, undefined), 0);
  await seen;
  // The queue at its limit, compaction after a partial flush, oversize and bad destinations.
  for (let i = 0; i < 5; i += 1) batch.enqueue(Buffer.alloc(100, i), undefined, undefined);
  batch.flush();
  assert.ok(batch.enqueue(Buffer.alloc(65528), port, '127.0.0.1') < 0);
  assert.ok(batch.enqueue(Buffer.alloc(1), port, 'example.invalid') < -1000);
  assert.ok(batch.enqueue(Buffer.alloc(1), port, '::1') < 0);
  assert.ok(batch.sendNow(Buffer.alloc(1), port, 'fe80::1%nope') < 0);
  for (let i = 0; i < 5; i += 1) batch.enqueue(Buffer.alloc(100, i), port, '127.0.0.1');
  batch.close(); // two queued datagrams go now, or are dropped
  assert.ok(batch.enqueue(Buffer.alloc(1), port, '127.0.0.1') < 0);
  await new Promise((resolve) => setImmediate(resolve));
  socket.close();
  console.log(`refused: errno ${errors[0]} reported; queue limit, oversize and bad destinations refused`);
}

async function closeInside() {
  const server = await bound('udp6', '::1');
  const client = dgram.createSocket('udp6');
  let closedInside;
  const inside = new Promise((resolve) => {
    closedInside = resolve;
  });
  open(server, 16, 16, (data, _length, port, from, batch) => {
    batch.enqueue(data, port, from);
    batch.close(() => closedInside());
    batch.close();
  });
  for (let i = 0; i < 20; i += 1) client.send(pattern(500, i), server.address().port, '::1');
  await inside;
  server.close();
  client.close();
  console.log('closed inside a receive callback, twice');
}

// onePass: sockets woken together are delivered in one pass; the first handler closes the others
// (taking them off the pass's list) and queues a reply without flush(), which the pass sends.
async function onePass() {
  const sender = await bound('udp4', '127.0.0.1');
  const receivers = await Promise.all([1, 2, 3, 4].map(() => bound('udp4', '127.0.0.1')));
  const batches = [];
  let replied = false;
  const reply = new Promise((resolve) => sender.once('message', resolve));
  for (const receiver of receivers) {
    const batch = open(receiver, 8, 8, (data, _length, _port, _from, self) => {
      assert.ok(!self.closedByOther, 'a closed socket was handed a batch');
      if (replied) return;
      replied = true;
      self.enqueue(data, sender.address().port, '127.0.0.1');
      for (const other of batches)
        if (other !== self) {
          other.closedByOther = true;
          other.close();
        }
    });
    batches.push(batch);
  }
  for (const [i, receiver] of receivers.entries())
    sender.send(pattern(100, i), receiver.address().port, '127.0.0.1');
  const echoed = await reply;
  assert.ok(receivers.some((_, i) => echoed.equals(pattern(100, i))));
  for (const batch of batches) batch.close();
  await new Promise((resolve) => setImmediate(resolve));
  for (const receiver of receivers) receiver.close();
  sender.close();
  console.log('one delivery pass: others closed inside it, its reply sent without flush()');
}

// gsoRuns sends mixed runs through GSO, then with GSO off, and checks each datagram, in order.
async function gsoRuns(type, host, largest) {
  const receivers = await Promise.all([0, 1].map(() => bound(type, host)));
  const sender = await bound(type, host);
  const plan = [];
  const add = (to, size, times) => {
    for (let i = 0; i < times; i += 1) plan.push({ to, data: pattern(size, plan.length) });
  };
  add(0, 1200, 60);
  add(0, 7, 1);
  add(1, 1200, 3);
  add(1, 0, 1);
  add(0, largest, 2);
  add(0, 9000, 10);
  add(1, 100, 130);
  add(1, 300, 2);
  add(1, 301, 1);
  const got = [[], []];
  let done;
  let all = new Promise((resolve) => {
    done = resolve;
  });
  let total = 0;
  const batches = receivers.map((receiver, index) => {
    receiver.setRecvBufferSize(4 << 20);
    return open(receiver, 64, 8, (data) => {
      got[index].push(Buffer.from(data));
      total += 1;
      if (total === plan.length) done();
    });
  });
  const send = open(sender, 4, 1000, () => {});
  // The first receiver cuts GRO messages itself; the second has GRO off (the kernel cuts them).
  assert.equal(batches[1].setGro(false), 0);
  assert.equal(batches[0].stats().gro, true);
  for (const round of [true, false]) {
    got[0] = [];
    got[1] = [];
    total = 0;
    const ready = all;
    send.setGso(round);
    for (const { to, data } of plan) send.enqueue(data, receivers[to].address().port, host);
    const before = send.stats();
    assert.equal(send.flush(), 0);
    const after = send.stats();
    assert.equal(after.datagrams - before.datagrams, plan.length);
    assert.ok(totals().datagrams >= after.datagrams);
    if (round) assert.ok(after.gsoMessages - before.gsoMessages >= 8, 'GSO runs went out');
    else assert.equal(after.messages - before.messages, plan.length);
    await ready;
    for (const to of [0, 1]) {
      const expected = plan.filter((p) => p.to === to).map((p) => p.data);
      assert.equal(got[to].length, expected.length);
      for (const [i, data] of got[to].entries())
        assert.ok(data.equals(expected[i]), `${type} ${to}:${i} differs`);
    }
    all = new Promise((resolve) => {
      done = resolve;
    });
  }
  for (const batch of [...batches, send]) batch.close();
  await new Promise((resolve) => setImmediate(resolve));
  for (const socket of [...receivers, sender]) socket.close();
  console.log(`gso ${type}: ${plan.length} datagrams in runs, with GSO and without, came back intact`);
}

// groClose: a GRO message of 30 datagrams reaches a socket whose batch holds 2; its handler
// closes it at the 6th datagram (the end of a call), and is called no more.
async function groClose() {
  const receiver = await bound('udp4', '127.0.0.1');
  const sender = await bound('udp4', '127.0.0.1');
  let seen = 0;
  let closedAt;
  const closed = new Promise((resolve) => {
    closedAt = resolve;
  });
  open(receiver, 2, 2, (data, _length, _port, _from, batch) => {
    assert.ok(data.equals(pattern(200, seen)), `datagram ${seen} differs`);
    seen += 1;
    assert.ok(seen <= 6, 'a closed socket was handed more');
    if (seen === 6) batch.close(() => closedAt()); // the end of the third call
  });
  const send = open(sender, 2, 64, () => {});
  for (let i = 0; i < 30; i += 1) send.enqueue(pattern(200, i), receiver.address().port, '127.0.0.1');
  assert.equal(send.flush(), 0);
  assert.equal(send.stats().gsoMessages, 1);
  await closed;
  send.close();
  await new Promise((resolve) => setImmediate(resolve));
  receiver.close();
  sender.close();
  console.log('gro: a socket closed in the middle of a joined message was handed no more of it');
}

(async () => {
  await groClose();
  await gsoRuns('udp4', '127.0.0.1', 65507);
  await gsoRuns('udp6', '::1', 65527);
  await onePass();
  await echoRound('udp4', '127.0.0.1');
  await echoRound('udp6', '::1');
  await refusedAndQueued();
  await closeInside();
  console.log('ok');
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
