/**
 * Measures what a slow client (one that never reads) does to a chat room's throughput: a talker
 * sends LINES lines as fast as the broker takes them, READERS fast clients read them all, and the
 * run is repeated with one extra client that never reads. Bounded in count and in time.
 *
 *   node dist/test/chat/slow-client-throughput.js [LINES] [READERS] [MAX_QUEUE]
 *
 * Prints one line per run: lines per second delivered to every reader, and what became of the
 * slow client. Not a test: a measurement for docs/chat.md.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { hostPort, startCli } from '../helpers.js';

const LINES = Number(process.argv[2] ?? 100_000);
const READERS = Number(process.argv[3] ?? 3);
const MAX_QUEUE = process.argv[4] ?? '1MiB';
const LINE = 'x'.repeat(100);
const DEADLINE_MS = 60_000;

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** countLines resolves when `socket` has received `want` lines from the talker. */
function countLines(socket: Socket, want: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    let previous = 0; // the last byte of the previous chunk: "x\n" may be split between chunks
    socket.on('data', (chunk: Buffer) => {
      // Every talker line ends with "x\n"; notices do not.
      if (previous === 0x78 && chunk[0] === 0x0a) seen++;
      for (let i = chunk.indexOf('x\n'); i >= 0; i = chunk.indexOf('x\n', i + 2)) seen++;
      previous = chunk[chunk.length - 1] ?? 0;
      if (seen >= want) resolve();
    });
  });
}

async function run(withSlowClient: boolean): Promise<void> {
  const server = await startCli([
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
  ]);
  const { port } = hostPort(server.urls[0] as string);
  const readers = await Promise.all(Array.from({ length: READERS }, () => open(port)));
  const slow = withSlowClient ? await open(port) : undefined;
  slow?.pause();
  const talker = await open(port);
  talker.on('data', () => {});
  const done = Promise.all(readers.map((r) => countLines(r, LINES)));
  const started = performance.now();
  let sent = 0;
  const deadline = Date.now() + DEADLINE_MS;
  while (sent < LINES && Date.now() < deadline) {
    if (!talker.write(`${LINE}\n`)) await new Promise((resolve) => talker.once('drain', resolve));
    sent++;
  }
  const timer = new Promise<'timeout'>((resolve) =>
    setTimeout(() => resolve('timeout'), DEADLINE_MS).unref(),
  );
  const outcome = await Promise.race([done, timer]);
  const seconds = (performance.now() - started) / 1000;
  const pid = server.child.pid as number;
  const rss = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  for (const socket of [...readers, talker, slow]) socket?.destroy();
  const result = await server.stop();
  const dropped = /disconnected: (too slow[^\n]*)/.exec(result.stderr)?.[1];
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
