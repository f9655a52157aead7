/**
 * The `--proxy URL` flag (repeatable) of every client command: `withProxyOption` adds it to a
 * command and `proxyOptionsOf` turns the parsed flags into `DialOptions.proxy` (and
 * `BenchOptions.proxy`). The first `--proxy` is the first hop; each later one is reached through
 * the ones before it.
 */
import { type Command, Option } from 'commander';
import {
  formatAddress,
  formatProxyUrl,
  type ProxyUrl,
  parseProxyUrl,
  type SocketAddress,
  UsageError,
} from '../../index.js';

/** ProxyFlags are the parsed `--proxy` flags, as written. */
export interface ProxyFlags {
  proxy?: string[];
}

/**
 * withProxyOption adds `--proxy URL` (repeatable) to a client command. `examples` replaces the
 * example lines, for a command that is not a client of the URL it is given (`proxy`).
 */
export function withProxyOption(
  command: Command,
  usage = command.name(),
  examples: readonly string[] = [
    `sockkit ${usage} tcp://example.test:80 --proxy socks5://127.0.0.1:1080    # the proxy resolves the name`,
    `sockkit ${usage} tls://example.test:443 --proxy http://alice:secret@127.0.0.1:3128 --trace`,
    `sockkit ${usage} tcp://192.0.2.5:6379 --proxy socks5://127.0.0.1:1080 --proxy socks4a://192.0.2.1:1080`,
  ],
): Command {
  const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
  return command
    .addOption(
      new Option(
        '--proxy <url>',
        'reach a tcp:// or tls:// URL through socks5://[user:pass@]host:port, socks4a://host:port or ' +
          'http://[user:pass@]host:port (HTTP CONNECT); repeat to chain, first hop first',
      ).argParser(collect),
    )
    .addHelpText('after', `\nProxy examples:\n${examples.map((line) => `  ${line}`).join('\n')}`);
}

/**
 * proxyChainOf parses the `--proxy` flags: undefined when none was given. Throws AddressError for
 * a malformed proxy URL and UsageError for one without a port.
 */
export function proxyChainOf(flags: ProxyFlags): ProxyUrl[] | undefined {
  if (!flags.proxy || flags.proxy.length === 0) return undefined;
  const proxies = flags.proxy.map(parseProxyUrl);
  const anyPort = proxies.find((p) => p.port === 0);
  if (anyPort)
    throw new UsageError(
      '--proxy',
      `${formatProxyUrl(anyPort)}: a proxy to connect to needs its port, not 0`,
    );
  return proxies;
}

/**
 * proxyOptionsOf parses the `--proxy` flags for a dial to `address`, as proxyChainOf does, and
 * throws UsageError (exit 2) for an address a proxy cannot reach (udp://, unix:).
 */
export function proxyOptionsOf(flags: ProxyFlags, address: SocketAddress): ProxyUrl[] | undefined {
  const proxies = proxyChainOf(flags);
  if (proxies && (address.scheme === 'udp' || address.scheme === 'unix')) {
    throw new UsageError(
      '--proxy',
      `${formatAddress(address)}: a proxy reaches tcp:// and tls:// addresses only`,
    );
  }
  return proxies;
}
