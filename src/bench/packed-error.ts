/**
 * Errors across the worker-thread boundary. A thread's message is structured-cloned, which keeps
 * an Error's message and little else: a TimeoutError arrives as a plain Error, without its `code`.
 * packError writes down what each class is built from, and unpackError builds the same class
 * again (errorFor picks it by code), so the main thread matches on `instanceof` and `code` as if the
 * error had been raised there.
 */
import { type ErrorCode, errorFor, FrameTooLargeError, SockkitError } from '../errors.js';

/** PackedError is an error as plain data, for a worker thread's message. */
export interface PackedError {
  /** The class's `name` (`TimeoutError`), which picks the class to build again. */
  readonly name: string;
  readonly message: string;
  /** The stack where the error was raised, in the worker (shown with `--debug`). */
  readonly stack?: string | undefined;
  /** A SockkitError's fields. */
  readonly sockkit?: { code: ErrorCode; op: string; url: string; reason: string } | undefined;
  /** A FrameTooLargeError's fields. */
  readonly frame?: { size: number; limit: number; atLeast: boolean } | undefined;
  /** The system error underneath, which a SockkitError reads its `errno` from. */
  readonly cause?: { message: string; code?: string | undefined } | undefined;
}

/** packError turns any thrown value into a PackedError. */
export function packError(err: unknown): PackedError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const cause = err.cause instanceof Error ? err.cause : undefined;
  return {
    name: err.name,
    message: err.message,
    stack: err.stack,
    sockkit:
      err instanceof SockkitError
        ? { code: err.code, op: err.op, url: err.url, reason: err.reason }
        : undefined,
    frame:
      err instanceof FrameTooLargeError
        ? { size: err.size, limit: err.limit, atLeast: err.atLeast }
        : undefined,
    cause: cause
      ? { message: cause.message, code: (cause as NodeJS.ErrnoException).code ?? undefined }
      : undefined,
  };
}

/** unpackError builds the error `packed` describes, of its original class where sockkit defines it. */
export function unpackError(packed: PackedError): Error {
  const err = build(packed);
  if (packed.stack !== undefined) err.stack = packed.stack;
  return err;
}

function build(packed: PackedError): Error {
  const s = packed.sockkit;
  if (!s) {
    const standard = { TypeError, RangeError } as Record<string, ErrorConstructor | undefined>;
    const err = new (standard[packed.name] ?? Error)(packed.message);
    if (err.name !== packed.name) err.name = packed.name;
    return err;
  }
  const cause = packed.cause && Object.assign(new Error(packed.cause.message), { code: packed.cause.code });
  const f = packed.frame;
  if (f) return new FrameTooLargeError(s.op, s.url, f.size, f.limit, f.atLeast, s.reason);
  return errorFor(s.code, s.op, s.url, s.reason, cause ? { cause } : undefined);
}
