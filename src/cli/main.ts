#!/usr/bin/env node
/**
 * The sockkit command line. It only parses arguments and hands each command to its module in
 * this folder; errors become one line on stderr and an exit code (CONVENTIONS.md).
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { benchCommand } from './bench.js';
import { chatCommand } from './chat.js';
import { connectCommand } from './connect.js';
import { demoCommand } from './demo.js';
import { echoCommand } from './echo.js';
import { listenCommand } from './listen.js';
import { mtrCommand } from './mtr.js';
import { pingCommand } from './ping.js';
import { exitFlushed, reportError, stopWhenOutputCloses } from './run.js';
import { scanCommand } from './scan.js';
import { sendCommand } from './send.js';
import { serveCommand } from './serve.js';
import { tracerouteCommand } from './traceroute.js';
import { waitCommand } from './wait.js';

const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const program = new Command('sockkit')
  .description('A socket toolkit: echo servers, netcat-style clients and servers, and more.')
  .version(version)
  .option('--trace', 'narrate every socket step on stderr')
  .option('--debug', 'print stack traces with errors')
  .configureHelp({ showGlobalOptions: true })
  .addHelpText(
    'after',
    `
Addresses are URLs: tcp://127.0.0.1:65432, tcp://[::1]:7, tcp://localhost:7, udp://127.0.0.1:7,
unix:/tmp/x.sock, unix:@abstract-name. Port 0 means any free port. Durations: 250ms, 2s, 1m. Sizes: 512, 64KiB, 1MiB.
Exit codes: 0 success, 1 run-time failure, 2 usage error.

Run 'sockkit demo' to watch an echo server and client talk step by step.`,
  );

for (const command of [
  demoCommand(),
  benchCommand(),
  echoCommand(),
  sendCommand(),
  connectCommand(),
  listenCommand(),
  serveCommand(),
  pingCommand(),
  tracerouteCommand(),
  mtrCommand(),
  chatCommand(),
  scanCommand(),
  waitCommand(),
]) {
  program.addCommand(command);
}

applyConventions(program);

/** applyConventions makes every command report usage errors as one `sockkit: ...` line, exit 2. */
function applyConventions(command: Command): void {
  command.exitOverride();
  command.configureOutput({
    outputError: (text, write) => {
      const where = command === program ? '' : `${command.name()}: `;
      const help = command === program ? 'sockkit --help' : `sockkit ${command.name()} --help`;
      write(`sockkit: ${where}${text.trim().replace(/^error: /, '')} (see '${help}')\n`);
    },
  });
  for (const sub of command.commands) applyConventions(sub);
}

stopWhenOutputCloses();
try {
  await program.parseAsync(process.argv);
  await exitFlushed(Number(process.exitCode ?? 0));
} catch (err) {
  await exitFlushed(
    reportError(err, program.opts<{ debug?: boolean }>().debug === true || process.argv.includes('--debug')),
  );
}
