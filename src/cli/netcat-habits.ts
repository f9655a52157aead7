/**
 * Netcat habits, translated: when a command line that failed to parse reads as a netcat command
 * (`connect 127.0.0.1 9000`, `listen -l -p 9000`, `-u`, `-z`, `-e`), `netcatHint` spells the same
 * thing the sockkit way, for the usage error to end with. It only produces text: it never runs
 * anything, and it says nothing when the words do not read as netcat's.
 */

/** NC_VALUE_FLAGS are netcat's one-letter flags that take a value. */
const NC_VALUE_FLAGS = new Set(['p', 's', 'w', 'q', 'e', 'c', 'i']);
/** NC_FLAGS are netcat's one-letter flags sockkit knows how to translate, with or without a value. */
const NC_FLAGS = new Set([...NC_VALUE_FLAGS, 'l', 'u', 'z', 'v', 'k', 'n', '4', '6']);

/** NC_ONLY are the letters that mean something else, or nothing, to sockkit's commands. */
const NC_ONLY = new Set(['l', 'u', 'z', 'v', 'k', 'n', 'e', 'c']);

/**
 * SHARED_LETTERS are the letters of NC_ONLY a sockkit command takes itself, meaning what netcat
 * means by them (`listen -k`, `connect -e`): on that command they are no sign of a habit, and a
 * usage error about them (`listen URL -q 1 -k`) is answered by its own words, not a "translation"
 * that only respells them.
 */
const SHARED_LETTERS: Readonly<Record<string, ReadonlySet<string>>> = {
  listen: new Set(['k', 'e', 'c']),
  connect: new Set(['e', 'c']),
};

/** COMMANDS the translation may name; any other first word is taken as netcat's own arguments. */
const CLIENT_COMMANDS = new Set(['connect', 'send', 'listen', 'scan']);

interface NetcatWords {
  command: string | undefined;
  letters: Map<string, string | true>;
  positionals: string[];
  /** Words already in sockkit's spelling (`--trace`, `--lines`), kept as typed. */
  kept: string[];
}

/**
 * netcatHint returns the sockkit spelling of `args` (the words after `sockkit`) when they read as
 * a netcat habit: `sockkit connect tcp://127.0.0.1:9000` for `connect 127.0.0.1 9000`. It returns
 * undefined when they do not, so an unrelated usage error gets no misleading suggestion.
 */
export function netcatHint(args: readonly string[]): string | undefined {
  const words = splitWords(args);
  if (!words) return undefined;
  const { letters, positionals } = words;
  const listening = letters.has('l') || words.command === 'listen';
  const scanning = letters.has('z') || words.command === 'scan';
  const udp = letters.has('u');
  const hostPort = hostAndPort(positionals, listening);
  // Letters sockkit also takes (-4, -s, -p, -w, -q) are no sign of a habit by themselves, nor
  // are scan's bare PORTS (its own syntax).
  const shared = SHARED_LETTERS[words.command ?? ''];
  const habit =
    [...letters.keys()].some((letter) => NC_ONLY.has(letter) && shared?.has(letter) !== true) ||
    (hostPort?.fromTwoWords === true && words.command !== 'scan') ||
    (words.command !== 'scan' && positionals.some(isBarePortOrColon));
  if (!habit) return undefined;
  const out: string[] = [];
  if (scanning) {
    const [host, ports] = positionals;
    if (host === undefined || ports === undefined) return undefined;
    out.push('scan', host, ports);
    if (udp) out.push('-u');
  } else if (listening) {
    const port = stringValue(letters.get('p')) ?? hostPort?.port;
    const given = positionals.find(isUrl);
    if (port === undefined && given === undefined) return undefined;
    // Loopback, not netcat's every interface: a suggestion must be safe to paste as it is.
    const url = port === undefined ? given : urlOf(udp ? 'udp' : 'tcp', hostPort?.host ?? '127.0.0.1', port);
    out.push('listen', url as string);
    if (letters.has('k')) out.push('--keep-open');
    // -q ends the one client relayed to stdin: sockkit refuses it with -k, -e or -c (one client
    // each, or a program's), so it is carried over only where it means what netcat's does.
    const quit = stringValue(letters.get('q'));
    if (quit !== undefined && !udp && !['k', 'e', 'c'].some((l) => letters.has(l))) out.push('-q', quit);
  } else {
    const command = words.command === 'send' ? 'send' : 'connect';
    if (hostPort?.host !== undefined)
      out.push(command, urlOf(udp ? 'udp' : 'tcp', hostPort.host, hostPort.port), ...hostPort.rest);
    else if (positionals[0] !== undefined && isUrl(positionals[0])) out.push(command, ...positionals);
    else return undefined;
    const source = stringValue(letters.get('s'));
    const sourcePort = stringValue(letters.get('p'));
    if (source !== undefined) out.push('-s', source);
    if (sourcePort !== undefined) out.push('-p', sourcePort);
    const quit = stringValue(letters.get('q'));
    if (quit !== undefined && !udp) out.push('-q', quit);
  }
  const wait = stringValue(letters.get('w'));
  if (wait !== undefined) out.push('-w', wait);
  for (const family of ['4', '6']) if (letters.has(family) && !listening) out.push(`-${family}`);
  const program = stringValue(letters.get('e'));
  const shell = stringValue(letters.get('c'));
  if (program !== undefined) out.push('--exec', quoted(program));
  if (shell !== undefined) out.push('--sh', quoted(shell));
  if (letters.has('v')) out.push('--trace');
  out.push(...words.kept);
  // The same words in another order are no translation: the error was about something else.
  const sameWords = [...out].sort().join(' ') === [...args].sort().join(' ');
  return sameWords ? undefined : `sockkit ${out.join(' ')}`;
}

/**
 * splitWords reads `args` as netcat would: clusters of one-letter flags (`-lvp 9000`), their
 * values, and the positional words. Returns undefined when the first word names a sockkit command
 * the translation does not cover (`bench`, `echo`), or a word is neither netcat's nor sockkit's.
 */
function splitWords(args: readonly string[]): NetcatWords | undefined {
  const letters = new Map<string, string | true>();
  const positionals: string[] = [];
  const kept: string[] = [];
  let command: string | undefined;
  for (let i = 0; i < args.length; i += 1) {
    const word = args[i] as string;
    if (word.startsWith('--')) {
      kept.push(word);
      continue;
    }
    if (/^-[a-zA-Z0-9]+$/.test(word)) {
      const cluster = word.slice(1).split('');
      if (!cluster.every((letter) => NC_FLAGS.has(letter))) return undefined;
      for (const [at, letter] of cluster.entries()) {
        const last = at === cluster.length - 1;
        if (NC_VALUE_FLAGS.has(letter) && last && i + 1 < args.length) {
          i += 1;
          letters.set(letter, args[i] as string);
        } else letters.set(letter, true);
      }
      continue;
    }
    if (command === undefined && positionals.length === 0 && /^[a-z]+$/.test(word) && word !== 'localhost') {
      if (!CLIENT_COMMANDS.has(word)) return undefined;
      command = word;
      continue;
    }
    positionals.push(word);
  }
  return { command, letters, positionals, kept };
}

interface HostPort {
  host: string | undefined;
  port: string;
  /** The host and the port were two words, as netcat takes them. */
  fromTwoWords: boolean;
  /** Words after them (send's MESSAGE). */
  rest: string[];
}

/** hostAndPort finds netcat's HOST PORT (or a lone PORT, or `:PORT`, for a listener) among the positional words. */
function hostAndPort(positionals: readonly string[], listening: boolean): HostPort | undefined {
  const [first, second, ...rest] = positionals;
  if (first === undefined || isUrl(first)) return undefined;
  if (second !== undefined && isPort(second)) return { host: first, port: second, fromTwoWords: true, rest };
  if (listening && isBarePortOrColon(first))
    return { host: undefined, port: first.replace(/^:/, ''), fromTwoWords: false, rest: [] };
  return undefined;
}

function isUrl(word: string): boolean {
  return word.includes('://') || word.startsWith('unix:');
}

function isPort(word: string): boolean {
  return /^\d{1,5}$/.test(word) && Number(word) <= 65535;
}

function isBarePortOrColon(word: string): boolean {
  return isPort(word.replace(/^:/, ''));
}

function stringValue(value: string | true | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function urlOf(scheme: string, host: string, port: string): string {
  return `${scheme}://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}

/** quoted writes a word for a shell: as it is when it is plain, else in single quotes. */
function quoted(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
