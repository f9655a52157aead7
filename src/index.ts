/**
 * sockkit's public API. Everything a program needs is exported here; the CLI uses nothing else
 * but these modules.
 */
export {
  formatAddress,
  formatHostPort,
  type InetAddress,
  type InetScheme,
  parseAddress,
  type Scheme,
  type SocketAddress,
  type UnixAddress,
} from './address.js';
export { type BenchOptions, type BenchReport, bench, type IntervalReport } from './bench/bench.js';
export {
  AbortError,
  AddressError,
  type ErrorCode,
  fromSystemError,
  SockkitError,
  TimeoutError,
  UsageError,
} from './errors.js';
export { type ResolvedHost, resolveHost } from './resolve.js';
export { echoStream } from './services/echo.js';
export { Conn, type ConnInit } from './stream/conn.js';
export { type DialOptions, dial } from './stream/dial.js';
export { Listener, type ListenOptions, listen } from './stream/listen.js';
export { type RelayOptions, relay } from './stream/relay.js';
export { type ServeOptions, type ServeSummary, type StreamService, serve } from './stream/serve.js';
export { narrate, narrator, type TraceEvent, type Tracer, type TraceStep } from './trace.js';
export { formatBytes, formatDuration, parseCount, parseDuration, parseSize } from './units.js';
