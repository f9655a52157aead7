import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  isValidNick,
  isValidRoom,
  nickRefusal,
  normalizeRoom,
  parseCommand,
  printable,
  roomRefusal,
} from '../../src/chat/commands.js';

describe('parseCommand', () => {
  test('reads a plain line as a message, and // as a message starting with /', () => {
    assert.deepEqual(parseCommand('hello there'), { kind: 'say', text: 'hello there' });
    assert.deepEqual(parseCommand('//shrug'), { kind: 'say', text: '/shrug' });
  });

  test('ignores blank lines', () => {
    assert.deepEqual(parseCommand('   '), { kind: 'empty' });
  });

  test('reads every command with its arguments', () => {
    assert.deepEqual(parseCommand('/nick alice'), { kind: 'nick', nick: 'alice' });
    assert.deepEqual(parseCommand('/join rust'), { kind: 'join', room: 'rust' });
    assert.deepEqual(parseCommand('/JOIN #rust'), { kind: 'join', room: '#rust' });
    assert.deepEqual(parseCommand('/part'), { kind: 'part' });
    assert.deepEqual(parseCommand('/list'), { kind: 'list' });
    assert.deepEqual(parseCommand('/who'), { kind: 'who', room: undefined });
    assert.deepEqual(parseCommand('/who #go'), { kind: 'who', room: '#go' });
    assert.deepEqual(parseCommand('/msg bob  see you  later'), {
      kind: 'msg',
      nick: 'bob',
      text: 'see you  later',
    });
    assert.deepEqual(parseCommand('/quit gone fishing'), { kind: 'quit', reason: 'gone fishing' });
    assert.deepEqual(parseCommand('/help'), { kind: 'help' });
  });

  test('leaves names as typed: the broker checks every name in one place', () => {
    assert.deepEqual(parseCommand('/nick 9lives'), { kind: 'nick', nick: '9lives' });
    assert.deepEqual(parseCommand('/join #a/b'), { kind: 'join', room: '#a/b' });
    assert.deepEqual(parseCommand('/who #a/b'), { kind: 'who', room: '#a/b' });
    assert.deepEqual(parseCommand('/msg 9lives hi'), { kind: 'msg', nick: '9lives', text: 'hi' });
  });

  test('explains a malformed or unknown command instead of failing', () => {
    assert.deepEqual(parseCommand('/nick'), { kind: 'invalid', reason: 'usage: /nick NAME' });
    assert.deepEqual(parseCommand('/nick a b'), { kind: 'invalid', reason: 'usage: /nick NAME' });
    assert.deepEqual(parseCommand('/join #no spaces'), { kind: 'invalid', reason: 'usage: /join #ROOM' });
    assert.deepEqual(parseCommand('/who #a #b'), { kind: 'invalid', reason: 'usage: /who [#ROOM]' });
    assert.deepEqual(parseCommand('/msg bob'), { kind: 'invalid', reason: 'usage: /msg NICK TEXT' });
    assert.deepEqual(parseCommand('/dance'), {
      kind: 'invalid',
      reason: 'unknown command /dance (try /help)',
    });
  });
});

describe('names', () => {
  test('accepts nicknames of a letter then letters, digits, _ or -, up to 20', () => {
    assert.equal(isValidNick('a'), true);
    assert.equal(isValidNick('Alice_2-b'), true);
    assert.equal(isValidNick('a'.repeat(21)), false);
    assert.equal(isValidNick('<script>'), false);
  });

  test('adds the # to a room name and refuses odd characters', () => {
    assert.equal(normalizeRoom('lobby'), '#lobby');
    assert.equal(normalizeRoom('#a/b'), undefined);
    assert.equal(isValidRoom('#lobby'), true);
    assert.equal(isValidRoom('lobby'), false);
  });

  test('refuses a name with one message that states the rule and quotes at most 32 characters', () => {
    assert.equal(nickRefusal('alice'), undefined);
    assert.equal(
      nickRefusal('9lives'),
      'invalid nick "9lives" (a letter, then up to 19 letters, digits, _ or -)',
    );
    assert.equal(
      nickRefusal('a\nb'),
      'invalid nick "a\\nb" (a letter, then up to 19 letters, digits, _ or -)',
    );
    assert.equal(
      nickRefusal('n'.repeat(8000)),
      `invalid nick "${'n'.repeat(32)}…" (a letter, then up to 19 letters, digits, _ or -)`,
    );
    assert.equal(roomRefusal('rust'), undefined);
    assert.equal(roomRefusal('#a b'), 'invalid room "#a b" (# then 1 to 30 letters, digits, _ or -)');
  });
});

describe('printable', () => {
  test('shows C0 controls and DEL in caret notation and C1 controls as <U+XXXX>, and keeps TAB', () => {
    assert.equal(printable('\x1b[2J'), '^[[2J');
    assert.equal(printable('a\rb\nc\x00\x07\x7f'), 'a^Mb^Jc^@^G^?');
    assert.equal(printable('\u0080\u009b\u009f'), '<U+0080><U+009B><U+009F>');
    assert.equal(printable('tab\there'), 'tab\there');
  });

  test('leaves every other character alone: text, U+00A0 and beyond, U+FFFD, emoji', () => {
    const text = 'héllo wörld \u00a0 \ufffd 日本 🎉 <b>&amp;</b> ^[ not an escape';
    assert.equal(printable(text), text);
  });

  test('leaves no control character but TAB in any string', () => {
    // Every code unit from 0 to 0x2FF, and a sample of the rest, one at a time and all together.
    const all = Array.from({ length: 0x300 }, (_, i) => String.fromCharCode(i)).join('');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
    assert.doesNotMatch(printable(all), /[\x00-\x08\x0a-\x1f\x7f-\x9f]/);
  });
});
