/**
 * `--hexdump`, `--dump FILE` and `--pcap FILE`: the traffic a command carries, shown on stderr,
 * written to a file as a hex dump, or as a pcapng capture. Files are written block by block as
 * traffic passes, with no buffer held back, so whenever and however the command stops (Ctrl-C,
 * SIGTERM, a crash) the file holds a valid capture of everything up to then.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Command } from 'commander';
import { Capture, IoError, PermissionDeniedError, type SockkitError, UsageError } from '../../index.js';
import { warn } from '../run.js';

/** CaptureFlags are the capture flags as commander parses them. */
export interface CaptureFlags {
  hexdump?: boolean;
  dump?: string;
  pcap?: string;
}

/**
 * withCaptureOptions adds `--hexdump`, `--dump FILE` and `--pcap FILE` to `command`. Their help
 * names the schemes a capture taps: on ws:// (not tapped) they are refused, never ignored.
 */
export function withCaptureOptions(command: Command): Command {
  return command
    .option(
      '--hexdump',
      'tcp/tls/unix/udp: show the traffic on stderr: each chunk, which way, when, in hex and text',
    )
    .option('--dump <file>', 'tcp/tls/unix/udp: write what --hexdump shows to FILE instead')
    .option(
      '--pcap <file>',
      'tcp/tls/unix/udp: write the traffic to FILE as pcapng, for Wireshark, tshark or tcpdump',
    );
}

/**
 * captureFor returns the Capture the flags ask for, writing to stderr and the files named, or
 * undefined when none was asked. Pass its `streamTap` to dial/listen, or its `packetTap` to
 * dialPacket/listenPacket. Throws UsageError (exit 2) for `-` or one file named twice, and a
 * SockkitError (exit 1) for a file that cannot be created: `pcap /nowhere/x.pcapng: no such directory`.
 */
export function captureFor(flags: CaptureFlags, command: string): Capture | undefined {
  if (!flags.hexdump && flags.dump === undefined && flags.pcap === undefined) return undefined;
  if (flags.dump !== undefined && flags.dump === flags.pcap)
    throw new UsageError(command, `--dump and --pcap name the same file (${flags.dump}); give each its own`);
  const dump = flags.dump === undefined ? undefined : new CaptureFile(command, 'dump', flags.dump);
  const pcap = flags.pcap === undefined ? undefined : new CaptureFile(command, 'pcap', flags.pcap);
  const toStderr = flags.hexdump ? stderrWriter() : undefined;
  return new Capture({
    pcapng: pcap ? (bytes) => pcap.write(bytes) : undefined,
    hexdump:
      dump && toStderr
        ? (text) => {
            toStderr(text);
            dump.write(Buffer.from(text));
          }
        : dump
          ? (text) => dump.write(Buffer.from(text))
          : toStderr,
  });
}

/**
 * stderrWriter writes the hex dump to stderr until stderr fails (its reader went away, as in
 * `2>&1 | head`): the dump stops there, and the command goes on.
 */
function stderrWriter(): (text: string) => void {
  let gone = false;
  process.stderr.on('error', () => {
    gone = true;
  });
  return (text) => {
    if (!gone) process.stderr.write(text);
  };
}

/**
 * CaptureFile is a file a capture writes straight through: each write reaches the kernel before
 * it returns. A write that fails (the disk is full) stops this file only, with one warning line:
 * the command and its traffic go on.
 */
class CaptureFile {
  readonly #flag: string;
  readonly #path: string;
  #fd: number | undefined;

  constructor(command: string, flag: 'dump' | 'pcap', path: string) {
    this.#flag = flag;
    this.#path = path;
    if (path === '' || path === '-')
      throw new UsageError(
        command,
        `--${flag} needs a file name${path === '-' ? " (stdout carries the connection's bytes)" : ''}`,
      );
    try {
      this.#fd = openSync(path, 'w');
    } catch (err) {
      throw fileError(flag, path, err);
    }
    process.once('exit', () => this.close());
  }

  write(bytes: Uint8Array): void {
    const fd = this.#fd;
    if (fd === undefined) return;
    try {
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
    } catch (err) {
      warn(`${fileError(this.#flag, this.#path, err).message}; nothing more is written to it`);
      this.close();
    }
  }

  close(): void {
    if (this.#fd === undefined) return;
    try {
      closeSync(this.#fd);
    } catch {
      // Every byte went out with writeSync already; a failing close loses nothing.
    }
    this.#fd = undefined;
  }
}

/** What a failed open or write of a file means, in words (the errno names those of open(2) and write(2)). */
const fileFailures: Record<string, string> = {
  ENOENT: 'no such directory',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'is a directory',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many symbolic links in the path',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
};

function fileError(flag: string, path: string, err: unknown): SockkitError {
  const errno = (err as NodeJS.ErrnoException).code ?? '';
  if (errno === 'EACCES' || errno === 'EPERM')
    return new PermissionDeniedError(flag, path, 'permission denied');
  return new IoError(
    flag,
    path,
    fileFailures[errno] ?? `cannot write the file (${errno || 'unknown error'})`,
    {
      cause: err,
    },
  );
}
