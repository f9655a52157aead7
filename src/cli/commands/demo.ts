/**
 * `sockkit demo [kind|url]`: watch each kind of socket at work, narrated step by step: the echo
 * example over a stream (tcp, the default), over datagrams (udp), over TLS (tls), and an ICMP
 * echo built by hand on a raw socket (raw). `--web` serves a page that runs them and draws them.
 * The scenarios live in ./demo/, one per file; this module only reads the command line.
 */
import { Command, Option } from 'commander';
import {
  formatHostPort,
  listen,
  parseAddress,
  parseCount,
  type SocketAddress,
  UsageError,
} from '../../index.js';
import { announceListening } from '../options/common.js';
import { shutdownSignal, warn } from '../run.js';
import { demoTarget, runDemo } from './demo/demos.js';
import { terminalNarration } from './demo/narration.js';
import { serveDemoPage } from './demo/web.js';

interface DemoOptions {
  message: string;
  web?: string;
}

export function demoCommand(): Command {
  return new Command('demo')
    .description(
      'Runs a server and a client in one process and narrates every step of their sockets (the ' +
        'kinds are listed below). A URL instead of a kind chooses the demo by its scheme (tcp://, ' +
        'unix:, udp://, tls://) and says where its server listens. --web serves a page that runs ' +
        'any demo from a button and draws it as a sequence diagram.',
    )
    .argument('[kind|url]', 'tcp, udp, tls or raw; or where the server listens')
    .option('-m, --message <text>', 'what the client sends', 'Hello, world')
    .addOption(
      new Option('--web [url|port]', 'serve the demo page (a port means 127.0.0.1)').preset(
        'tcp://127.0.0.1:0',
      ),
    )
    .addHelpText(
      'after',
      `
Kinds:
  tcp  the default: the echo example over a stream socket: create, bind, listen, connect,
       accept, send, receive, shut down, close
  udp  the same over datagrams: no listen, no accept; boundaries kept; a refused port; sizes
  tls  the echo with a handshake in front: a certificate, what is verified, ciphertext on the wire
  raw  an ICMP echo request built by hand, sent on a raw socket (needs root or CAP_NET_RAW)

Examples:
  sockkit demo
  sockkit demo udp
  sockkit demo tls --message 'secret'
  sudo sockkit demo raw
  sockkit demo tcp://[::1]:0 --message 'over IPv6'
  sockkit demo unix:@sockkit-demo
  sockkit demo --web                # prints the page's address; open it in a browser`,
    )
    .action(async (argument: string | undefined, options: DemoOptions) => {
      if (options.web !== undefined) {
        if (argument !== undefined) {
          throw new UsageError(
            'demo',
            `--web runs every demo from its page; give no kind or URL (got "${argument}")`,
          );
        }
        const address = webAddress(options.web);
        const signal = shutdownSignal();
        const listener = await listen(address);
        const page = serveDemoPage(listener, { log: warn });
        announceListening(listener.addresses);
        process.stdout.write(`Open ${pageUrl(listener.address)} in a browser. Ctrl-C stops the server.\n`);
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        await page.close();
        return;
      }
      const target = demoTarget(argument);
      const ok = await runDemo(
        target,
        options.message,
        terminalNarration((text) => process.stdout.write(text)),
      );
      if (!ok) process.exitCode = 1;
    });
}

/** webAddress reads `--web`: a bare port means 127.0.0.1, anything else a tcp:// URL. */
function webAddress(value: string): SocketAddress {
  const url = /^\d+$/.test(value) ? `tcp://127.0.0.1:${parseCount(value, '--web', 0, 65535)}` : value;
  const address = parseAddress(url);
  if (address.scheme !== 'tcp') {
    throw new UsageError('--web', `${value}: the page is served over tcp:// (use a tcp:// URL or a port)`);
  }
  return address;
}

/** pageUrl is the page's address for a browser: a wildcard address is reached on loopback. */
function pageUrl(address: SocketAddress): string {
  if (address.scheme === 'unix') return '';
  const host = address.host === '0.0.0.0' ? '127.0.0.1' : address.host === '::' ? '::1' : address.host;
  return `http://${formatHostPort(host, address.port)}/`;
}
