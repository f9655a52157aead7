import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Command } from 'commander';
import { COMMANDS } from '../../src/cli/command-list.js';
import { HELP } from '../../src/cli/help-config.js';
import { runCli } from '../helpers.js';

// A default is written one way in every help, as a user types it (issue 12): `(default: 5s)`,
// `(default: 64KiB)`, `(default: 1)`; never `(default 2)`, `(default: "56")`, `(default 16.0 MiB)`,
// `default off` or JSON. A range reads as a user says it, never `from 1 to 9007199254740991`.

/** HelpPage is one command's help, rendered as the CLI renders it, and the command it is of. */
interface HelpPage {
  readonly name: string;
  readonly command: Command;
  readonly text: string;
}

/** helpPages renders every command's and subcommand's help with the CLI's own configuration. */
async function helpPages(): Promise<HelpPage[]> {
  const pages: HelpPage[] = [];
  const walk = (command: Command, name: string): void => {
    command.configureHelp(HELP);
    pages.push({ name, command, text: command.helpInformation() });
    for (const sub of command.commands) walk(sub, `${name} ${sub.name()}`);
  };
  for (const entry of COMMANDS) walk(await entry.load(), entry.name);
  return pages;
}

/** flat joins a help's wrapped and padded lines, so a phrase broken over two lines is one again. */
const flat = (text: string): string => text.replace(/\s+/g, ' ');

/** described lists every option and argument of `command` with the description its help shows. */
function described(command: Command): [string, string][] {
  const help = command.createHelp();
  return [
    ...command.options.map((o): [string, string] => [o.flags, help.optionDescription(o)]),
    ...command.registeredArguments.map((a): [string, string] => [a.name(), help.argumentDescription(a)]),
  ];
}

const DURATION = /^\d+(?:\.\d+)?(?:ms|s|m|h)\b/;
const SIZE = /^\d+(?:B|KiB|MiB|GiB)\b/;

test('every default in every help is written `(default: X)`, and only that way', {
  timeout: 9000,
}, async () => {
  const pages = await helpPages();
  assert.ok(pages.length >= 20, `every command and subcommand (${pages.length})`);
  for (const { name, text } of pages) {
    // What may mention a default: the one form, and prose ("by default", "the default: ...").
    const rest = flat(text)
      .replace(/\(default: (?!["'[{])[^()]+\)/g, '')
      .replace(/\b(?:on by default|by default|the default|the same default address)\b/gi, '');
    const stray = /.{0,40}default.{0,30}/i.exec(rest);
    assert.equal(stray, null, `${name}: a default written another way: "${stray?.[0]}"`);
  }
});

test('a duration or size default reads as it is typed: 5s, 64KiB, never a bare number', {
  timeout: 9000,
}, async () => {
  let checked = 0;
  for (const { name, command } of await helpPages()) {
    for (const [flags, description] of described(command)) {
      const shown = /\(default: ([^()]+)\)$/.exec(description)?.[1];
      if (shown === undefined) continue;
      // A default that is a value (not "none", "the URL host") is in its kind's unit.
      const isValue = /^\d/.test(shown);
      if (isValue && /<duration>/.test(flags))
        assert.match(shown, DURATION, `${name} ${flags}: (default: ${shown})`);
      if (isValue && /<size>/.test(flags)) assert.match(shown, SIZE, `${name} ${flags}: (default: ${shown})`);
      assert.doesNotMatch(shown, /^["'[{]|\d,\d/, `${name} ${flags}: (default: ${shown}) is not as typed`);
      checked += 1;
    }
  }
  assert.ok(checked >= 40, `defaults checked: ${checked}`);
});

test('no help quotes a number or states a bound no one types', { timeout: 9000 }, async () => {
  for (const { name, command, text } of await helpPages()) {
    for (const [flags, description] of described(command)) {
      assert.doesNotMatch(description, /["']\d/, `${name} ${flags}: a quoted number in "${description}"`);
    }
    assert.doesNotMatch(text, /9007199254740991|2147483647|\d{10}/, `${name}: a bound no one types`);
  }
});

test('the CLI shows the help rendered here: global flags and the one default form', {
  timeout: 9000,
}, async () => {
  const [send, join] = await Promise.all([runCli(['send', '--help']), runCli(['help', 'chat', 'join'])]);
  assert.equal(send.code, 0, send.stderr);
  const sendText = flat(send.stdout.toString());
  assert.match(sendText, /--retries <count> udp: sends after the first when no reply comes \(default: 2\)/);
  assert.match(
    sendText,
    /-w, --timeout <duration> bound on the whole exchange \(default: 10s; udp:\/\/: 1s per attempt\)/,
  );
  assert.match(sendText, /Global Options: .*--trace narrate every socket step/);
  assert.match(
    flat(join.stdout.toString()),
    /--max-line <size> the longest line to send: the server's --max-line \(default: 4KiB\)/,
  );
});

test('usage errors say a range as a user would', { timeout: 9000 }, async () => {
  const cases: [string[], string][] = [
    [['echo', '--seed', 'x'], '--seed: invalid number "x" (expected a whole number 0 or more)'],
    [
      ['perf', 'tcp://127.0.0.1:9', '--length', '99999999999999999999'],
      '--length: too large (got 99999999999999999999)',
    ],
    [['bench', 'tcp://127.0.0.1:9', '--rate', '20M'], '--rate: must be from 0 to 10M (got 20M)'],
    [
      ['chat', 'join', 'tcp://127.0.0.1:9', '--max-line', '17MiB'],
      '--max-line: must be from 1B to 16MiB (got 17MiB)',
    ],
  ];
  const results = await Promise.all(cases.map(([args]) => runCli(args)));
  for (const [i, [args, message]] of cases.entries()) {
    const result = results[i];
    assert.equal(result?.code, 2, `${args.join(' ')}: ${result?.stderr}`);
    assert.equal(result?.stderr, `sockkit: ${message}\n`);
  }
});
