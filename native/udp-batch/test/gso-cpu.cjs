'use strict';
// gso-cpu.cjs measures the sender's CPU per datagram with GSO on and off: bursts of BURST
// datagrams of SIZE bytes per event-loop turn, through the addon, to PEERS loopback ports nobody
// reads (the kernel still delivers and drops each one, as it would for a slow receiver), the
// datagrams of a burst dealt to the peers in turn (with PEERS > 1 no run forms: what the run
// check costs). Rounds alternate on, off, on, off, ... for SECONDS each; prints one line per
// round and the ratio.
// Usage: node native/udp-batch/test/gso-cpu.cjs [seconds=2] [rounds=4] [size=1400] [burst=64] [peers=1]
const dgram = require('node:dgram');
const { UdpBatch } = require('..');

const [seconds = 2, rounds = 4, size = 1400, burst = 64, peers = 1] = process.argv.slice(2).map(Number);

function bound() {
  const socket = dgram.createSocket('udp4');
  return new Promise((resolve) => socket.bind(0, '127.0.0.1', () => resolve(socket)));
}

function round(batch, ports, gso) {
  batch.setGso(gso);
  const data = Buffer.alloc(size, 7);
  const before = batch.stats();
  const cpu = process.cpuUsage();
  const end = Date.now() + seconds * 1000;
  return new Promise((resolve) => {
    const turn = () => {
      for (let i = 0; i < burst; i += 1) batch.enqueue(data, ports[i % ports.length], '127.0.0.1');
      batch.flush();
      if (Date.now() < end) {
        setImmediate(turn);
        return;
      }
      const used = process.cpuUsage(cpu);
      const after = batch.stats();
      const datagrams = after.datagrams - before.datagrams;
      const perDatagram = (used.user + used.system) / datagrams;
      console.log(
        `gso ${gso ? 'on ' : 'off'}: ${datagrams} datagrams in ${after.messages - before.messages} messages, ` +
          `${perDatagram.toFixed(3)} us CPU per datagram`,
      );
      resolve(perDatagram);
    };
    turn();
  });
}

(async () => {
  const sinks = await Promise.all(Array.from({ length: peers }, bound)); // never read: the kernel drops what overflows
  const sender = await bound();
  const handle =
    sender[Object.getOwnPropertySymbols(sender).find((s) => s.description === 'state symbol')].handle;
  handle.recvStop();
  const batch = new UdpBatch(
    handle.fd,
    4,
    4096,
    () => {},
    () => {},
  );
  const ports = sinks.map((sink) => sink.address().port);
  const figures = { on: [], off: [] };
  for (let i = 0; i < rounds; i += 1) {
    const gso = i % 2 === 0;
    figures[gso ? 'on' : 'off'].push(await round(batch, ports, gso));
  }
  const mean = (list) => list.reduce((a, b) => a + b, 0) / list.length;
  console.log(`CPU per datagram, GSO on / off: ${(mean(figures.on) / mean(figures.off)).toFixed(2)}`);
  batch.close();
  sender.close();
  for (const sink of sinks) sink.close();
})();
