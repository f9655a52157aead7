import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COMMANDS } from '../../src/cli/command-list.js';
import { runCli } from '../helpers.js';

/**
 * Help text is wrapped by the help library to the terminal's width (80 columns in a pipe), so a
 * description must not carry line breaks of its own inside a paragraph: re-wrapped, they leave
 * stubs ("narrates every" / "step of both sockets").
 */
test('every command description is wrapped once, by the help library', { timeout: 9000 }, async () => {
  const names = [...COMMANDS.map((c) => [c.name]), ['chat', 'serve'], ['chat', 'join']];
  const helps = await Promise.all(names.map((name) => runCli([...name, '--help'])));
  for (const [i, help] of helps.entries()) {
    const text = help.stdout.toString();
    const description =
      text
        .split('\n\n')
        .slice(1)
        .join('\n\n')
        .split(/\n(?:Arguments|Options):/)[0] ?? '';
    for (const paragraph of description.split('\n\n')) {
      const lines = paragraph
        .trim()
        .split('\n')
        .filter((line) => !line.startsWith('  '));
      for (const line of lines.slice(0, -1))
        assert.ok(line.length >= 50, `${names[i]?.join(' ')}: a stub line "${line}" in:\n${paragraph}`);
      for (const line of lines)
        assert.ok(line.length <= 80, `${names[i]?.join(' ')}: "${line}" is over 80 columns`);
    }
  }
});
