/**
 * Endpoints are what a bridge joins (CONVENTIONS.md, "Endpoints that are not sockets"): a socket
 * URL, `-` for the process's own stdin and stdout, `exec:PROGRAM ARG…` or `sh:COMMAND`.
 */
import { formatAddress, parseAddress, type SocketAddress } from '../address.js';
import { UsageError } from '../errors.js';
import { splitWords } from './shell-words.js';

/** Program is a program to run with the connection as its stdin and stdout. */
export interface Program {
  /** The file to run (looked up in PATH when it has no slash) and its arguments. */
  readonly file: string;
  readonly args: readonly string[];
  /** The command as the user wrote it, after `exec:` or `sh:`, for messages. */
  readonly command: string;
  /** True for `sh:`: the command runs under `/bin/sh -c`. */
  readonly shell: boolean;
}

/** Endpoint is one side of a bridge. */
export type Endpoint =
  | { readonly kind: 'socket'; readonly address: SocketAddress }
  | { readonly kind: 'program'; readonly program: Program }
  | { readonly kind: 'stdio' };

/**
 * programOf builds the Program for `exec:` (`shell` false: words split as a shell would, nothing
 * expanded) or `sh:` (`shell` true: `/bin/sh -c COMMAND`). Throws UsageError for an empty command
 * or one that does not split (an unclosed quote).
 */
export function programOf(command: string, shell: boolean): Program {
  const op = shell ? 'sh' : 'exec';
  if (command.trim() === '') throw new UsageError(op, `no command given after ${op}:`);
  if (shell) return { file: '/bin/sh', args: ['-c', command], command, shell };
  const [file, ...args] = splitWords(command);
  if (file === undefined || file === '')
    throw new UsageError(op, `no program named in ${JSON.stringify(command)}`);
  return { file, args, command, shell };
}

/**
 * parseEndpoint reads one endpoint: `-`, `exec:PROGRAM ARG…`, `sh:COMMAND`, or a socket URL.
 * Throws UsageError as `programOf` does, or AddressError for a URL that does not parse.
 */
export function parseEndpoint(text: string): Endpoint {
  if (text === '-') return { kind: 'stdio' };
  if (text.startsWith('exec:')) return { kind: 'program', program: programOf(text.slice(5), false) };
  if (text.startsWith('sh:')) return { kind: 'program', program: programOf(text.slice(3), true) };
  return { kind: 'socket', address: parseAddress(text) };
}

/** formatEndpoint writes an endpoint as parseEndpoint reads it. */
export function formatEndpoint(endpoint: Endpoint): string {
  switch (endpoint.kind) {
    case 'stdio':
      return '-';
    case 'program':
      return `${endpoint.program.shell ? 'sh' : 'exec'}:${endpoint.program.command}`;
    case 'socket':
      return formatAddress(endpoint.address);
  }
}
