import assert from 'node:assert/strict';
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { hostPort, startCli } from '../helpers.js';
import { LineUser } from './line-user.js';

/**
 * PTY runs a command on a pseudo-terminal (Python's pty module, in Debian's python3), so that
 * `chat join` sees a real terminal: raw mode, a prompt, redraws. stdin and stdout are its two ends.
 */
const PTY = 'import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)';

/** visible drops the cursor-movement escape sequences readline writes, keeping the text. */
function visible(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are what is removed.
  return text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
}

describe('sockkit chat join on a terminal', { timeout: 30_000 }, () => {
  test('an incoming line clears the prompt, prints, and redraws the prompt with the half-typed text', async () => {
    const server = await startCli(['chat', 'serve', 'tcp://127.0.0.1:0']);
    const { port } = hostPort(server.urls[0] as string);
    const bob = LineUser.ncat('127.0.0.1', String(port));
    bob.say('/nick bob');
    await bob.next(/is now known as bob$/);

    const join = await startCli(['chat', 'join', server.urls[0] as string, '--nick', 'tty'], {
      wrapper: ['python3', '-c', PTY],
      env: { ...process.env, TERM: 'xterm', COLUMNS: '80', LINES: '24' },
      stdin: 'pipe',
      listens: 0,
    });
    const child = join.child as ChildProcessByStdio<Writable, Readable, Readable>;
    // Everything the terminal shows is kept from the start: the prompt may be drawn before the
    // test first looks for it.
    let screen = '';
    child.stdout.on('data', (chunk: Buffer) => {
      screen += chunk.toString('utf8');
    });
    const waitFor = (pattern: RegExp): Promise<void> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${pattern} on the terminal; it shows:\n${JSON.stringify(screen)}`)),
          5000,
        );
        const check = (): void => {
          if (!pattern.test(visible(screen))) return;
          clearTimeout(timer);
          child.stdout.off('data', check);
          resolve();
        };
        child.stdout.on('data', check);
        check();
      });

    try {
      await bob.next(/is now known as tty$/);
      await waitFor(/> $/);
      child.stdin.write('hel'); // typed, not yet sent
      await waitFor(/> hel$/);
      const before = screen.length;
      bob.say('hi from nc');
      await waitFor(/<bob> hi from nc/);
      await waitFor(/<bob> hi from nc\r?\n[\s\S]*> hel$/);
      const redraw = screen.slice(before);
      // The line starts on a cleared line (carriage return, erase line), not after "> hel".
      assert.ok(redraw.includes('\r\x1b[2K<bob> hi from nc\r\n'), JSON.stringify(redraw));
      assert.doesNotMatch(visible(screen), /hel<bob>/);

      child.stdin.write('lo\r'); // finish typing: the line goes out whole
      assert.equal(await bob.next(/^<tty>/), '<tty> hello');
      child.stdin.write('/quit\r');
      await bob.next(/^\* tty left #lobby \(quit\)$/);
    } finally {
      await join.stop('SIGTERM');
      bob.quit();
      await server.stop();
    }
  });
});
