/**
 * `--workers N`: one listener spread over N processes (Node's cluster), for machines with more
 * cores than one event loop can use. Each worker is the same command, run in full; the listening
 * socket is created once and shared, and the kernel hands each new connection to one worker.
 */
import cluster, { type Worker } from 'node:cluster';
import { createInterface } from 'node:readline';
import { parseAddress, plural, UsageError } from '../../index.js';
import { SHUTDOWN_SIGNALS, warn } from '../run.js';
import {
  addSummaries,
  type ServiceSummary,
  serviceSummaryLine,
  shuttingDownLine,
  summaryOf,
} from './service-summary.js';

/** SHUTDOWN is the message a worker reads as SIGTERM. */
const SHUTDOWN = 'sockkit:shutdown';

/** isWorker is true in a process that `runWorkers` started. */
export function isWorker(): boolean {
  return cluster.isWorker;
}

/**
 * runWorkers starts `count` copies of this command and supervises them until they exit. It
 * prints each `listening on URL` line once (the workers share the socket), passes the workers'
 * other lines through as `sockkit: worker N: ...`, and turns SIGINT/SIGTERM/SIGHUP into a graceful
 * shutdown of every worker (a second signal kills them), said once. At the end it prints one
 * summary, the workers' counts added up. Only tcp and tls listeners can be shared: anything else
 * is a UsageError.
 */
export async function runWorkers(
  command: string,
  count: number,
  urls: readonly string[],
  grace: number,
): Promise<void> {
  for (const url of urls) {
    const { scheme } = parseAddress(url);
    if (scheme !== 'tcp' && scheme !== 'tls') {
      throw new UsageError(command, `--workers shares tcp and tls listeners only, not ${url}`);
    }
  }
  // Node's default round-robin: the primary accepts and hands each connection to the next
  // worker. It costs one message per connection, but spreads long-lived connections evenly,
  // where letting workers race for accept (SCHED_NONE) piles most of them onto one or two.
  cluster.schedulingPolicy = cluster.SCHED_RR;
  cluster.setupPrimary({ stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
  const announced = new Set<string>();
  const workers: Worker[] = [];
  // A worker hears SHUTDOWN only once it has set up its handler, which it does before it listens:
  // one asked to stop earlier is asked again when it starts listening.
  const listening = new Set<Worker>();
  let stopping = false;
  const tellToStop = (worker: Worker): void => {
    if (listening.has(worker) && worker.isConnected()) worker.send(SHUTDOWN);
  };
  const stop = (): void => {
    if (stopping) {
      for (const worker of workers) worker.process.kill('SIGKILL');
      process.exit(130);
    }
    stopping = true;
    warn(shuttingDownLine(true, grace));
    for (const worker of workers) tellToStop(worker);
  };
  const summaries: ServiceSummary[] = [];
  const exits: Promise<number>[] = [];
  for (let n = 1; n <= count; n += 1) {
    const worker = cluster.fork();
    workers.push(worker);
    worker.on('message', (message: unknown) => {
      const summary = summaryOf(message);
      if (summary) summaries.push(summary);
    });
    worker.once('listening', () => {
      listening.add(worker);
      if (stopping) tellToStop(worker);
    });
    if (worker.process.stderr) {
      createInterface({ input: worker.process.stderr }).on('line', (line) => {
        if (line.startsWith('listening on ')) {
          if (!announced.has(line)) process.stderr.write(`${line}\n`);
          announced.add(line);
        } else process.stderr.write(`${line.replace(/^sockkit: /, `sockkit: worker ${n}: `)}\n`);
      });
    }
    exits.push(
      new Promise<number>((resolve) =>
        worker.on('exit', (code, signal) => {
          if (!stopping) {
            warn(`worker ${n} exited unexpectedly (${signal ?? `code ${code}`}); stopping the others`);
            stop();
          }
          resolve(code ?? 1);
        }),
      ),
    );
  }
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, stop);
  const codes = await Promise.all(exits);
  if (summaries.length > 0)
    warn(`${serviceSummaryLine(addSummaries(summaries))} (${plural(summaries.length, 'worker')})`);
  if (codes.some((code) => code !== 0)) process.exitCode = 1;
}

/**
 * prepareWorker makes a worker shut down gracefully when the primary asks. A Ctrl-C (or a
 * hangup) on a terminal reaches every worker directly too; the request then adds nothing, so a single
 * Ctrl-C never counts twice (which would force an immediate exit).
 */
export function prepareWorker(): void {
  let signalled = false;
  const mark = (): void => {
    signalled = true;
  };
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, mark);
  process.on('message', (message) => {
    if (message === SHUTDOWN && !signalled) process.emit('SIGTERM');
  });
}
