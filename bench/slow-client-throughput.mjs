// Measures what a slow client (one that never reads) does to a chat room's throughput: a talker
// sends LINES lines as fast as the broker takes them, READERS fast clients read them all, and the
// run is repeated with one extra client that never reads. Bounded in count and in time.
//
//   npm run build && node bench/slow-client-throughput.mjs [LINES] [READERS] [MAX_QUEUE]
//
// Prints one line per run: lines per second delivered to every reader, and what became of the
// slow client. Not a test: a measurement for docs/chat.md.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist/src/cli/main.js');
const LINES = Number(process.argv[2] ?? 100_000);
const READERS = Number(process.argv[3] ?? 3);
const MAX_QUEUE = process.argv[4] ?? '1MiB';
const LINE = 'x'.repeat(100);
const DEADLINE_MS = 60_000;

/** startChat runs `sockkit chat serve` on port 0 and resolves once it prints `listening on URL`. */
function startChat() {
  const child = spawn(
    process.execPath,
    [
      cli,
      'chat',
      'serve',
      'tcp://127.0.0.1:0',
      '--flood-rate',
      '0',
      '--max-queue',
      MAX_QUEUE,
      '--max-clients',
      '100',
      '-v',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  const closed = new Promise((resolve) => child.on('close', () => resolve(stderr)));
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk) => {
      stderr += chunk.toString();
      const port = /^listening on tcp:\/\/127\.0\.0\.1:(\d+)$/m.exec(stderr)?.[1];
      const stop = () => {
        child.kill('SIGINT');
        return closed;
      };
      if (port) resolve({ child, port: Number(port), stop });
    });
    closed.then(() => reject(new Error(`sockkit chat serve exited early: ${stderr}`)));
  });
}

function open(port) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** countLines resolves when `socket` has received `want` lines from the talker. */
function countLines(socket, want) {
  return new Promise((resolve) => {
    let seen = 0;
    let previous = 0; // the last byte of the previous chunk: "x\n" may be split between chunks
    socket.on('data', (chunk) => {
      // Every talker line ends with "x\n"; notices do not.
      if (previous === 0x78 && chunk[0] === 0x0a) seen++;
      for (let i = chunk.indexOf('x\n'); i >= 0; i = chunk.indexOf('x\n', i + 2)) seen++;
      previous = chunk[chunk.length - 1] ?? 0;
      if (seen >= want) resolve();
    });
  });
}

async function run(withSlowClient) {
  const server = await startChat();
  const readers = await Promise.all(Array.from({ length: READERS }, () => open(server.port)));
  const slow = withSlowClient ? await open(server.port) : undefined;
  slow?.pause();
  const talker = await open(server.port);
  talker.on('data', () => {});
  const done = Promise.all(readers.map((r) => countLines(r, LINES)));
  const started = performance.now();
  let sent = 0;
  const deadline = Date.now() + DEADLINE_MS;
  while (sent < LINES && Date.now() < deadline) {
    if (!talker.write(`${LINE}\n`)) await new Promise((resolve) => talker.once('drain', resolve));
    sent++;
  }
  const timer = new Promise((resolve) => setTimeout(() => resolve('timeout'), DEADLINE_MS).unref());
  const outcome = await Promise.race([done, timer]);
  const seconds = (performance.now() - started) / 1000;
  const rss = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.child.pid}/status`, 'utf8'))?.[1];
  for (const socket of [...readers, talker, slow]) socket?.destroy();
  const stderr = await server.stop();
  const dropped = /disconnected: (too slow[^\n]*)/.exec(stderr)?.[1];
  console.log(
    `${withSlowClient ? 'with a slow client   ' : 'without a slow client'}: ${LINES} lines x ${READERS} readers` +
      ` in ${seconds.toFixed(2)} s = ${Math.round(LINES / seconds)} lines/s to each reader` +
      `${outcome === 'timeout' ? ' (TIMED OUT)' : ''}; broker peak RSS ${Math.round(Number(rss) / 1024)} MiB` +
      (withSlowClient ? `; slow client: ${dropped ? `dropped (${dropped})` : 'not dropped'}` : ''),
  );
}

await run(false);
await run(true);
await run(false);
await run(true);
