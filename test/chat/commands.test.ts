import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isValidNick, normalizeRoom, parseCommand } from '../../src/chat/commands.js';

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
    assert.deepEqual(parseCommand('/join rust'), { kind: 'join', room: '#rust' });
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

  test('explains a malformed or unknown command instead of failing', () => {
    assert.deepEqual(parseCommand('/nick'), { kind: 'invalid', reason: 'usage: /nick NAME' });
    assert.match((parseCommand('/nick 9lives') as { reason: string }).reason, /invalid nick "9lives"/);
    assert.match((parseCommand('/join #no spaces') as { reason: string }).reason, /usage: \/join/);
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
  });
});
