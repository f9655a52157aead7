import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { splitWords } from '../../src/bridge/shell-words.js';

describe('splitWords', () => {
  test('splits at runs of blanks and ignores blanks at either end', () => {
    assert.deepEqual(splitWords('  grep  -v\tfoo \n bar  '), ['grep', '-v', 'foo', 'bar']);
    assert.deepEqual(splitWords(''), []);
    assert.deepEqual(splitWords(' \t\n'), []);
  });

  test('single quotes keep everything, backslashes and double quotes included', () => {
    assert.deepEqual(splitWords(`echo 'a  b' 'c\\d' '"e"'`), ['echo', 'a  b', 'c\\d', '"e"']);
  });

  test('double quotes keep blanks and drop the backslash only before " \\ ` $ and newline', () => {
    assert.deepEqual(splitWords('printf "a b" "\\"q\\"" "\\\\" "\\$HOME" "\\n" "\\`x\\`"'), [
      'printf',
      'a b',
      '"q"',
      '\\',
      '$HOME',
      '\\n',
      '`x`',
    ]);
    assert.deepEqual(splitWords('"one\\\ntwo"'), ['onetwo']);
  });

  test('a backslash outside quotes keeps the next character; a backslash-newline joins lines', () => {
    assert.deepEqual(splitWords("a\\ b c\\\\d \\'e"), ['a b', 'c\\d', "'e"]);
    assert.deepEqual(splitWords('cat \\\n -n'), ['cat', '-n']);
    assert.deepEqual(splitWords('ab\\\ncd'), ['abcd']);
  });

  test('quotes join with the text around them into one word, and empty quotes are a word', () => {
    assert.deepEqual(splitWords(`a'b c'"d e"f`), ['ab cd ef']);
    assert.deepEqual(splitWords(`x '' "" y`), ['x', '', '', 'y']);
  });

  test('expands nothing: variables, globs, tildes and operators stay as written', () => {
    assert.deepEqual(splitWords('echo $HOME ~ *.txt a|b ; > out'), [
      'echo',
      '$HOME',
      '~',
      '*.txt',
      'a|b',
      ';',
      '>',
      'out',
    ]);
  });

  test('an unclosed quote or a trailing backslash is a UsageError naming it', () => {
    assert.throws(() => splitWords(`echo 'oops`), {
      name: 'UsageError',
      code: 'ERR_USAGE',
      message: /unclosed '/,
    });
    assert.throws(() => splitWords('echo "oops'), { name: 'UsageError', message: /unclosed "/ });
    assert.throws(() => splitWords('echo \\'), { name: 'UsageError', message: /trailing backslash/ });
  });
});
