/**
 * Pieces every command shares: the global flags, URL arguments, trace narration and the
 * `listening on URL` line that scripts wait for.
 */
import type { Command } from 'commander';
import {
  type AddressOf,
  formatAddress,
  formatDuration,
  formatSize,
  MAX_TIMER,
  narrator,
  parseAddress,
  parseDuration,
  type Scheme,
  type SocketAddress,
  type Tracer,
  UsageError,
} from '../../index.js';

/** GlobalOptions are the flags every command takes. */
export interface GlobalOptions {
  trace?: boolean;
  debug?: boolean;
}

/** globalsOf reads the global flags (`--trace`, `--debug`) as seen by `command`. */
export function globalsOf(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

/** tracerFor returns a Tracer narrating to stderr with `label`, when `--trace` was given. */
export function tracerFor(command: Command, label = ''): Tracer | undefined {
  if (!globalsOf(command).trace) return undefined;
  return narrator(label, (line) => process.stderr.write(line));
}

/**
 * addressArg parses a URL argument and checks its scheme is one the command supports.
 * Throws UsageError (exit 2) naming the command and the problem.
 */
export function addressArg<S extends Scheme>(
  command: string,
  url: string,
  schemes: readonly S[],
): AddressOf<S> {
  const address = parseAddress(url);
  if (!isOneOf(address, schemes)) {
    throw new UsageError(
      command,
      `${url}: ${address.scheme} is not supported here (use ${schemes.join(', ')})`,
    );
  }
  return address;
}

function isOneOf<S extends Scheme>(address: SocketAddress, schemes: readonly S[]): address is AddressOf<S> {
  return (schemes as readonly Scheme[]).includes(address.scheme);
}

/**
 * durationOption is a commander argument parser for durations (`250ms`, `2s`) from `min` to
 * `max` ms (default 0 to MAX_TIMER, the longest a timer can wait); outside is a UsageError that
 * names the flag and the range.
 */
export function durationOption(flag: string, min = 0, max = MAX_TIMER): (value: string) => number {
  return (value) => parseDuration(value, flag, min, max);
}

/**
 * durationDefault is a duration default for commander's `.default()`, with its text as typed:
 * `.default(...durationDefault(5000))` shows `(default: 5s)`, never `5000`.
 */
export function durationDefault(ms: number): [number, string] {
  return [ms, formatDuration(ms)];
}

/**
 * sizeDefault is a size default for commander's `.default()`, with its text as typed:
 * `.default(...sizeDefault(4096))` shows `(default: 4KiB)`.
 */
export function sizeDefault(bytes: number): [number, string] {
  return [bytes, formatSize(bytes)];
}

/** announceListening prints `listening on URL` on stderr for each bound address. */
export function announceListening(addresses: readonly SocketAddress[]): void {
  for (const address of addresses) process.stderr.write(`listening on ${formatAddress(address)}\n`);
}
