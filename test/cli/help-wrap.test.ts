import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Command } from 'commander';
import { COMMANDS } from '../../src/cli/command-list.js';
import { HELP } from '../../src/cli/help-config.js';
import { runCli } from '../helpers.js';

/**
 * Help text is wrapped by the help library to the terminal's width (80 columns in a pipe), so a
 * description must not carry line breaks of its own inside a paragraph: re-wrapped, they leave
 * stubs ("narrates every" / "step of both sockets"). Every page is rendered in this process with the
 * CLI's own help configuration (one process per command made the test slow on a busy machine); one
 * page is checked against what the CLI itself prints.
 */

/** pages renders the help of every command and subcommand as the CLI does, by name. */
async function pages(): Promise<Map<string, string>> {
  const byName = new Map<string, string>();
  const walk = (command: Command, name: string): void => {
    command.configureHelp(HELP);
    byName.set(name, command.helpInformation());
    for (const sub of command.commands) walk(sub, `${name} ${sub.name()}`);
  };
  for (const entry of COMMANDS) walk(await entry.load(), entry.name);
  return byName;
}

/** descriptionOf is a help page's description: the paragraphs between the usage line and the lists. */
function descriptionOf(text: string): string {
  return (
    text
      .split('\n\n')
      .slice(1)
      .join('\n\n')
      .split(/\n(?:Arguments|Options):/)[0] ?? ''
  );
}

test('every command description is wrapped once, by the help library', async () => {
  const rendered = await pages();
  assert.ok(rendered.has('chat serve') && rendered.has('chat join'), [...rendered.keys()].join(', '));
  for (const [name, text] of rendered) {
    for (const paragraph of descriptionOf(text).split('\n\n')) {
      const lines = paragraph
        .trim()
        .split('\n')
        .filter((line) => !line.startsWith('  '));
      for (const line of lines.slice(0, -1))
        assert.ok(line.length >= 50, `${name}: a stub line "${line}" in:\n${paragraph}`);
      for (const line of lines) assert.ok(line.length <= 80, `${name}: "${line}" is over 80 columns`);
    }
  }
});

test('the pages rendered here are the ones the CLI prints', { timeout: 9000 }, async () => {
  const rendered = await pages();
  for (const name of [['chat', 'serve'], ['forward']]) {
    const printed = await runCli([...name, '--help']);
    assert.equal(printed.code, 0, printed.stderr);
    assert.equal(
      descriptionOf(printed.stdout.toString()),
      descriptionOf(rendered.get(name.join(' ')) ?? ''),
      name.join(' '),
    );
  }
});
