/**
 * Every command sockkit has: its name, its one-line summary, and how to load it. A command's
 * module (and the library modules it needs) is loaded only when that command runs, so
 * `sockkit --version`, `--help` and a mistyped command start as fast as Node itself.
 */
import type { Command } from 'commander';

/** CommandEntry is one command as the top-level help lists it, and the loader of its module. */
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  load(): Promise<Command>;
}

/** COMMANDS lists the commands in the order `sockkit --help` shows them. */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'demo',
    summary: 'watch sockets at work, step by step: tcp, udp, tls, raw, or all of them on a web page',
    load: async () => (await import('./commands/demo.js')).demoCommand(),
  },
  {
    name: 'bench',
    summary: 'load-test an echo server',
    load: async () => (await import('./commands/bench.js')).benchCommand(),
  },
  {
    name: 'echo',
    summary: 'run an echo server',
    load: async () => (await import('./commands/echo.js')).echoCommand(),
  },
  {
    name: 'send',
    summary: 'send one message and print the reply',
    load: async () => (await import('./commands/send.js')).sendCommand(),
  },
  {
    name: 'connect',
    summary: 'connect and relay stdin/stdout (like nc)',
    load: async () => (await import('./commands/connect.js')).connectCommand(),
  },
  {
    name: 'listen',
    summary: 'accept a client and relay stdin/stdout (like nc -l)',
    load: async () => (await import('./commands/listen.js')).listenCommand(),
  },
  {
    name: 'forward',
    summary: 'forward a port: each client to a target (tcp, tls, unix, udp, or a program)',
    load: async () => (await import('./commands/forward.js')).forwardCommand(),
  },
  {
    name: 'relay',
    summary: 'join two endpoints both ways: sockets, stdin/stdout, programs (like socat)',
    load: async () => (await import('./commands/relay.js')).relayCommand(),
  },
  {
    name: 'proxy',
    summary: 'a SOCKS5/SOCKS4a/HTTP proxy server, safe by default (logins, destination rules)',
    load: async () => (await import('./commands/proxy.js')).proxyCommand(),
  },
  {
    name: 'serve',
    summary: 'run a simple service (echo, discard, chargen, daytime, time)',
    load: async () => (await import('./commands/serve.js')).serveCommand(),
  },
  {
    name: 'perf',
    summary: 'measure throughput and responsiveness (iperf3 protocol)',
    load: async () => (await import('./commands/perf.js')).perfCommand(),
  },
  {
    name: 'ping',
    summary: 'send ICMP echo requests (raw sockets; needs root or CAP_NET_RAW)',
    load: async () => (await import('./commands/ping.js')).pingCommand(),
  },
  {
    name: 'traceroute',
    summary: 'list the routers on the way to a host (raw sockets; needs root or CAP_NET_RAW)',
    load: async () => (await import('./commands/traceroute.js')).tracerouteCommand(),
  },
  {
    name: 'mtr',
    summary: 'probe every hop to a host continuously: loss, RTT and jitter per hop (raw sockets)',
    load: async () => (await import('./commands/mtr.js')).mtrCommand(),
  },
  {
    name: 'scan',
    summary: 'check which ports of a host are open (TCP connect, UDP, TLS)',
    load: async () => (await import('./commands/scan.js')).scanCommand(),
  },
  {
    name: 'wait',
    summary: 'wait until services accept connections, then optionally run a command',
    load: async () => (await import('./commands/wait.js')).waitCommand(),
  },
  {
    name: 'chat',
    summary: 'a chat server (nc, browsers, Redis scale-out) and its client',
    load: async () => (await import('./commands/chat.js')).chatCommand(),
  },
];

/**
 * commandWanted returns the name of the command `args` (the words after `sockkit`) runs, or
 * undefined when they run none (`--help`, `--version`, nothing). Global options come first.
 */
export function commandWanted(args: readonly string[]): string | undefined {
  return args.find((arg) => !arg.startsWith('-'));
}
