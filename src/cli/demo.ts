/**
 * `sockkit demo`: the introduction's echo example, done properly and narrated step by step: a
 * server and a client in one process, each socket's life traced as it happens.
 */
import { Command } from 'commander';
import { formatAddress } from '../address.js';
import { echoStream } from '../services/echo.js';
import { dial } from '../stream/dial.js';
import { listen } from '../stream/listen.js';
import { narrator } from '../trace.js';
import { addressArg } from './common.js';

export function demoCommand(): Command {
  return new Command('demo')
    .summary('watch an echo server and client talk, step by step')
    .description(
      'Starts an echo server on a free port, connects a client, sends MESSAGE, and narrates every\n' +
        'step of both sockets: create, bind, listen, connect, accept, send, receive, close.',
    )
    .argument('[url]', 'where the server listens', 'tcp://127.0.0.1:0')
    .option('-m, --message <text>', 'what the client sends', 'Hello, world')
    .addHelpText(
      'after',
      `
Examples:
  sockkit demo
  sockkit demo tcp://[::1]:0 --message 'over IPv6'
  sockkit demo unix:@sockkit-demo`,
    )
    .action(async (url: string, options: { message: string }) => {
      const address = addressArg('demo', url, ['tcp', 'unix']);
      const out = (line: string): boolean => process.stdout.write(line);
      const step = (text: string): void => void out(`\n${text}\n`);

      step('1. The server creates a socket, binds it to an address, and listens for connections.');
      const listener = await listen(address, { trace: narrator('server', out) });
      out(`   The server is listening on ${formatAddress(listener.address)}.\n`);

      step('2. The client creates its own socket and connects; the server accepts the connection.');
      const accepting = listener.accept();
      const client = await dial(listener.address, { trace: narrator('client', out), timeout: 5000 });
      const served = await accepting;
      echoStream(served);

      step(
        `3. The client sends ${JSON.stringify(options.message)}, then shuts down its write side (half-close),`,
      );
      out('   telling the server it has nothing more to send. The server echoes every byte back.\n');
      await client.send(options.message);
      await client.closeWrite();
      const chunks: Buffer[] = [];
      for await (const chunk of client) chunks.push(chunk);
      const reply = Buffer.concat(chunks).toString();

      step('4. The server saw EOF, finished echoing and closed; the client read to the end and closed.');
      await Promise.all([client.closed, served.closed]);
      await listener.close();
      out(`\nSent ${JSON.stringify(options.message)}, received ${JSON.stringify(reply)}: `);
      out(reply === options.message ? 'the echo is exact.\n' : 'the echo DIFFERS.\n');
      if (reply !== options.message) process.exitCode = 1;
      out('\nNext: run `npx sockkit echo` in one terminal and `npx sockkit connect tcp://127.0.0.1:65432`\n');
      out('in another, add --trace to either, or see `npx sockkit --help` for every command.\n');
    });
}
