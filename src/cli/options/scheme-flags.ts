/**
 * Flags that belong to some schemes only. A flag whose help text starts with its schemes
 * (`udp: ...`, `tls://: ...`, `tcp/tls: ...`) applies to addresses of those schemes only: given
 * on a command whose addresses are all of other schemes, it is a usage error naming the flag,
 * never silently ignored (`send tcp://... --retries 3`). The help a user reads is the rule the
 * command enforces, in one place for every command.
 */
import type { Command, Option } from 'commander';
import { parseAddress, UsageError } from '../../index.js';

/** SCHEME_PREFIX matches the schemes a flag's help starts with: `udp: `, `tls://: `, `tcp/tls: `. */
const SCHEME_PREFIX = /^((?:tcp|tls|unix|udp|ws|wss)(?:\/(?:tcp|tls|unix|udp|ws|wss))*)(?::\/\/)?: /;

/** schemesOf returns the schemes `option` applies to, or undefined when it applies to every one. */
export function schemesOf(option: Option): string[] | undefined {
  const match = SCHEME_PREFIX.exec(option.description ?? '');
  if (!match) return undefined;
  // wss:// is WebSocket over TLS: a `ws://` flag and a TLS flag (`tls://: ...` alone) apply to it.
  const named = (match[1] as string).split('/');
  const implied = named.includes('ws') || (named.length === 1 && named[0] === 'tls') ? ['wss'] : [];
  return [...new Set([...named, ...implied])];
}

/**
 * refuseFlagsForOtherSchemes throws UsageError when `command` was given (on its command line) a
 * flag for schemes none of its address arguments has. A command without address arguments, or
 * whose addresses do not parse (that error comes next, from the command), is left alone.
 */
export function refuseFlagsForOtherSchemes(command: Command): void {
  // The addresses are the arguments, and the values of flags that take one (`chat serve --web URL`).
  const urls = [...(command.processedArgs as unknown[]), ...Object.values(command.opts())]
    .flat()
    .filter((arg): arg is string => typeof arg === 'string');
  const schemes = schemesIn(urls);
  if (schemes.size > 0) refuse(command, command.options, schemes, [...schemes.values()]);
}

/**
 * refuseFlagsOutside throws UsageError when one of `options`, given on `command`'s command line,
 * is for schemes none of `endpoints` has: for a command with sides, whose flags each apply to one
 * side (forward's listener flags to its LISTEN, its target flags to the TARGETs). Endpoints that
 * are not socket URLs (`exec:cat`, `-`) have no scheme, so a scheme's flag is refused with only them.
 */
export function refuseFlagsOutside(
  command: Command,
  options: readonly Option[],
  endpoints: readonly string[],
): void {
  refuse(command, options, schemesIn(endpoints), endpoints);
}

/** schemesIn maps each scheme of `urls` to the first URL of it; what does not parse is left out. */
function schemesIn(urls: readonly string[]): Map<string, string> {
  const schemes = new Map<string, string>();
  for (const url of urls) {
    try {
      const { scheme } = parseAddress(url);
      if (!schemes.has(scheme)) schemes.set(scheme, url);
    } catch {
      // Not an address (a service name, a message), or a bad one the command reports itself.
    }
  }
  return schemes;
}

function refuse(
  command: Command,
  options: readonly Option[],
  schemes: ReadonlyMap<string, string>,
  named: readonly string[],
): void {
  const refused = options.filter((option) => {
    const only = schemesOf(option);
    if (!only || only.some((scheme) => schemes.has(scheme))) return false;
    return command.getOptionValueSource(option.attributeName()) === 'cli';
  });
  // `--nodelay` and `--no-nodelay` share one value: name the one the user typed.
  const option = refused.find((o) => spelling(o) !== undefined) ?? refused[0];
  if (!option) return;
  const only = schemesOf(option) ?? [];
  throw new UsageError(
    command.name(),
    `${spelling(option) ?? option.long ?? option.name()} applies to ${listOf(only.map((s) => (s === 'unix' ? 'unix:' : `${s}://`)))} addresses only, not ${listOf(named)}`,
  );
}

/** spelling is how `option` was written on this command line (`-s`, `--source`), if it was. */
function spelling(option: Option): string | undefined {
  return [option.long, option.short].find(
    (flag) => flag !== undefined && process.argv.some((arg) => arg === flag || arg.startsWith(`${flag}=`)),
  );
}

/** listOf joins words as a sentence does: `a`, `a or b`, `a, b or c`. */
function listOf(words: readonly string[]): string {
  return words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
}
