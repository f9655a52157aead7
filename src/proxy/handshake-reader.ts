/**
 * HandshakeReader reads a proxy client's handshake messages from its socket with pure codecs,
 * one at a time, and hands the socket over afterwards with the bytes that followed. The HTTP
 * proxy also reads whole messages with it, heads and bodies, from clients and origins.
 */
import type { Socket } from 'node:net';
import { ConnectionResetError } from '../errors.js';
import type { HeadDecoded } from './http-head.js';
import { leaveUnread } from './leave-unread.js';

/** MAX_AHEAD bounds the bytes held: past it, reading stops until a message is asked for. */
const MAX_AHEAD = 64 * 1024;

/** Decoder is a pure codec's decode: a message and the bytes it used, or undefined for "need more". */
export type Decoder<T> = (buffer: Buffer) => HeadDecoded<T> | undefined;

/**
 * HandshakeReader collects what `socket` sends and decodes messages from it on demand. It never
 * holds more than one message's worth: every codec bounds its messages, and throws past them.
 */
export class HandshakeReader {
  readonly #socket: Socket;
  #buffer: Buffer = Buffer.alloc(0);
  #ended = false;
  #wake: (() => void) | undefined;

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onEnd);
  }

  /**
   * read resolves with the next message `decode` finds. It rejects with the codec's error (a
   * ProtocolError), or with ConnectionResetError when the client ends or closes before the message
   * is complete.
   */
  async read<T>(decode: Decoder<T>): Promise<T> {
    for (;;) {
      const found = decode(this.#buffer);
      if (found) {
        this.#buffer = this.#buffer.subarray(found.used);
        return found.value;
      }
      if (this.#ended)
        throw new ConnectionResetError('read', '', 'the client left in the middle of its handshake');
      this.#socket.resume();
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  /** buffered is the number of bytes received and not yet read. */
  get buffered(): number {
    return this.#buffer.length;
  }

  /**
   * readSome resolves with the bytes received, at most `max` of them, once there is at least one;
   * with undefined once the peer has ended and every byte has been read.
   */
  async readSome(max: number): Promise<Buffer | undefined> {
    if (!(await this.waitForData())) return undefined;
    const take = Math.min(max, this.#buffer.length);
    return this.read((buffer) => ({ value: buffer.subarray(0, take), used: take }));
  }

  /** waitForData resolves true once a byte is there to read, false once the peer has ended with none. */
  async waitForData(): Promise<boolean> {
    for (;;) {
      if (this.#buffer.length > 0) return true;
      if (this.#ended) return false;
      this.#socket.resume();
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  /** firstByte resolves with the first byte the client sends, without consuming it. */
  async firstByte(): Promise<number> {
    return this.read((buffer) => (buffer.length > 0 ? { value: buffer[0] as number, used: 0 } : undefined));
  }

  /**
   * release stops reading and returns the bytes received past the last message: the socket is
   * left as if unread (see leaveUnread), for the tunnel to take over.
   */
  release(): Buffer {
    this.#socket.off('data', this.#onData);
    this.#socket.off('end', this.#onEnd);
    this.#socket.off('close', this.#onEnd);
    leaveUnread(this.#socket);
    const rest = this.#buffer;
    this.#buffer = Buffer.alloc(0);
    return rest;
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    // Bytes sent ahead of the handshake's end wait in the kernel, not here (a flood costs nothing).
    if (this.#buffer.length >= MAX_AHEAD) this.#socket.pause();
    this.#notify();
  };

  readonly #onEnd = (): void => {
    this.#ended = true;
    this.#notify();
  };

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
