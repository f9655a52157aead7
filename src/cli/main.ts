#!/usr/bin/env node
/**
 * The sockkit command line. It only parses arguments and hands each command to its module in
 * this folder; errors become one line on stderr and an exit code (CONVENTIONS.md).
 */
import { Command, CommanderError } from 'commander';
import { COMMANDS, commandWanted } from './command-list.js';
import { HELP } from './help-config.js';
import { netcatHint } from './netcat-habits.js';
import { EXIT_USAGE, exitFlushed, stopWhenOutputCloses } from './run.js';
import { VERSION as version } from './version.js';

const program = new Command('sockkit')
  .description('A socket toolkit: echo servers, netcat-style clients and servers, and more.')
  .version(version)
  .option('--trace', 'narrate every socket step on stderr')
  .option('--debug', 'print stack traces with errors')
  .addHelpText(
    'after',
    `
Addresses are URLs: tcp://127.0.0.1:65432, tcp://[::1]:7, tcp://localhost:7, udp://127.0.0.1:7,
unix:/tmp/x.sock, unix:@abstract-name, ws://127.0.0.1:8080/path, wss://.... Port 0 means any free port. Durations: 250ms, 2s, 1m. Sizes: 512, 64KiB, 1MiB.
Exit codes: 0 success, 1 run-time failure, 2 usage error.

Run 'sockkit demo' to watch an echo server and client talk step by step.`,
  );

// `sockkit help chat serve` is `sockkit chat serve --help`: help for the command named, at any depth.
const args = process.argv.slice(2);
const helpFor = args[0] === 'help' ? [...args.slice(1), '--help'] : undefined;
const argv = helpFor ? [...process.argv.slice(0, 2), ...helpFor] : process.argv;
const wanted = commandWanted(argv.slice(2));
if (helpFor && wanted !== undefined && !COMMANDS.some((entry) => entry.name === wanted)) {
  process.stderr.write(`sockkit: help: unknown command '${wanted}' (see 'sockkit --help')\n`);
  await exitFlushed(2);
}
for (const entry of COMMANDS) {
  // Only the command that runs is loaded; the others stand in by name and summary for --help.
  const command = entry.name === wanted ? await loadCommand(entry) : new Command(entry.name);
  program.addCommand(command.summary(entry.summary));
}

/**
 * loadCommand loads a command's modules. Node reads a module graph's files all at once, so under
 * a very low descriptor limit (`ulimit -n 128`) loading itself can run out: that is one line and
 * exit 1, never a stack trace.
 */
async function loadCommand(entry: (typeof COMMANDS)[number]): Promise<Command> {
  try {
    return await entry.load();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EMFILE') throw err;
    process.stderr.write(
      `sockkit: ${entry.name}: too few file descriptors to load the command: raise the limit (ulimit -n 1024)\n`,
    );
    return exitFlushed(1);
  }
}

program.helpCommand('help [command...]', 'show the help of a command: sockkit help chat serve');
// A flag for other schemes than the command's addresses is refused, whatever the command.
program.hook('preAction', async (_program, action) =>
  (await import('./options/scheme-flags.js')).refuseFlagsForOtherSchemes(action),
);

applyConventions(program);

/** applyConventions makes every command report usage errors as one `sockkit: ...` line, exit 2. */
function applyConventions(command: Command): void {
  command.exitOverride();
  command.configureHelp(HELP);
  command.configureOutput({
    outputError: (text, write) => {
      const where = command === program ? '' : `${command.name()}: `;
      const help = command === program ? 'sockkit --help' : `sockkit ${command.name()} --help`;
      // One line, whatever commander wrapped: `unknown command 'sedn' (Did you mean send?)`.
      const words = text
        .trim()
        .replace(/^error: /, '')
        .replace(/\s*\n\s*/g, ' ');
      // A netcat habit (`connect 127.0.0.1 9000`, `-l -p 9000`) gets the sockkit spelling instead.
      const hint = netcatHint(args);
      const line = hint ? `${words.replace(/\.$/, '')}; did you mean: ${hint}` : `${words} (see '${help}')`;
      write(`sockkit: ${where}${line}\n`);
    },
  });
  for (const sub of command.commands) applyConventions(sub);
}

stopWhenOutputCloses();
try {
  await program.parseAsync(argv);
  await exitFlushed(Number(process.exitCode ?? 0));
} catch (err) {
  // --help and --version end as a CommanderError with exit code 0; usage errors, already printed, with 1.
  if (err instanceof CommanderError) await exitFlushed(err.exitCode === 0 ? 0 : EXIT_USAGE);
  const { reportError } = await import('./report-error.js');
  await exitFlushed(
    reportError(err, program.opts<{ debug?: boolean }>().debug === true || process.argv.includes('--debug')),
  );
}
