/**
 * splitWords cuts a command line into words as a POSIX shell does (XCU 2.2, Quoting), for the
 * `exec:` endpoint: the program runs directly, with no shell, so nothing is expanded.
 */
import { UsageError } from '../errors.js';

/**
 * splitWords splits `text` into words at unquoted blanks (space, tab, newline), honouring the
 * shell's three ways of quoting: a backslash keeps the next character as it is (a backslash and
 * a newline vanish), single quotes keep everything up to the next single quote, and double quotes
 * keep everything but `\"`, `\\`, `` \` ``, `\$` and a backslash-newline, whose backslash goes.
 * `''` and `""` are empty words. Nothing is expanded: `$HOME`, `*` and `~` stay as written, and
 * `|`, `;`, `>` are plain characters (use `sh:` for those). Throws UsageError (op `exec`) for an
 * unclosed quote or a trailing backslash.
 */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  // A word exists once anything, even empty quotes, has been seen since the last blank.
  let inWord = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i] as string;
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    if (c === '\\') {
      i += 1;
      if (i >= text.length) throw new UsageError('exec', `a trailing backslash in ${JSON.stringify(text)}`);
      // A backslash-newline is a line continuation: both vanish, and no word starts.
      if (text[i] === '\n') continue;
      word += text[i];
      inWord = true;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) throw new UsageError('exec', `an unclosed ' in ${JSON.stringify(text)}`);
      word += text.slice(i + 1, close);
      i = close;
    } else if (c === '"') {
      i += 1;
      for (; i < text.length && text[i] !== '"'; i += 1) {
        const d = text[i] as string;
        const next = text[i + 1];
        if (d === '\\' && next !== undefined && '"\\`$\n'.includes(next)) {
          if (next !== '\n') word += next;
          i += 1;
        } else word += d;
      }
      if (i >= text.length) throw new UsageError('exec', `an unclosed " in ${JSON.stringify(text)}`);
    } else word += c;
  }
  if (inWord) words.push(word);
  return words;
}
