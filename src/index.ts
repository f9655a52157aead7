/**
 * sockkit's public API. Everything a program needs is exported here; the CLI uses nothing else
 * but these modules.
 */
export {
  type AddressOf,
  formatAddress,
  formatHostPort,
  type InetAddress,
  type InetScheme,
  isWebSocket,
  parseAddress,
  type Scheme,
  type SocketAddress,
  type UnixAddress,
  type WebSocketAddress,
  type WebSocketScheme,
  webSocketTransport,
} from './address.js';
export { type BenchOptions, type BenchReport, bench, type IntervalReport } from './bench/bench.js';
export { benchJson } from './bench/report-json.js';
export { Broker, type BrokerOptions, type BrokerStats } from './chat/broker.js';
export { ChatClient, type ChatPeer } from './chat/chat-client.js';
export {
  type ChatCommand,
  isValidNick,
  isValidRoom,
  nickRefusal,
  normalizeRoom,
  parseCommand,
  printable,
  roomRefusal,
} from './chat/commands.js';
export { FloodControl } from './chat/flood-control.js';
export { type ChatEvent, type Hub, MemoryHub, type RoomInfo } from './chat/hub.js';
export { type ChatLimits, DEFAULT_MAX_LINE, DEFAULT_MAX_QUEUE, serveChatLines } from './chat/line-session.js';
export { MIN_LEASE, RedisHub, type RedisHubOptions } from './chat/redis-hub.js';
export { type ChatWeb, serveChatWeb } from './chat/web.js';
export { ANY_ORIGIN, normalizeOrigin, OriginPolicy, type OriginVerdict } from './chat/web-origin.js';
export { type CollectRepliesOptions, collectReplies } from './datagram/collect-replies.js';
export {
  type DialPacketOptions,
  dialPacket,
  dialResolved,
  resolvePacketTargets,
} from './datagram/dial-packet.js';
export { MAX_DATAGRAM_IPV4, MAX_DATAGRAM_IPV6, maxDatagramSize } from './datagram/limits.js';
export { listenPacket, listenPackets } from './datagram/listen-packet.js';
export {
  type Datagram,
  type MessageHandler,
  PacketConn,
  type PacketConnInit,
  type Peer,
  type RequestOptions,
} from './datagram/packet-conn.js';
export {
  DEFAULT_OUTPUT_LIMIT,
  type PacketRelayEvent,
  type PacketRelayOptions,
  type PacketRelaySummary,
  relayPackets,
} from './datagram/relay-packets.js';
export { type PacketRequestOptions, request } from './datagram/request.js';
export {
  type DatagramService,
  type PacketServeOptions,
  type PacketServeSummary,
  servePackets,
} from './datagram/serve-packets.js';
export { checkPacketOptions, isMulticast, type PacketOptions } from './datagram/socket-options.js';
export { DatagramSplitter } from './datagram/splitter.js';
export {
  AbortError,
  AddressError,
  AddressInUseError,
  AddressNotAvailableError,
  ConnectionRefusedError,
  ConnectionResetError,
  describeTlsClientFailure,
  type ErrorCode,
  type ErrorInit,
  errorFor,
  FrameTooLargeError,
  fromSystemError,
  HostNotFoundError,
  IoError,
  isSockkitError,
  isUsageCode,
  type KnownError,
  MessageTooLargeError,
  NoReplyError,
  optionError,
  PacketError,
  PermissionDeniedError,
  ProtocolError,
  RawUnavailableError,
  rewrap,
  SchemeError,
  SockkitError,
  TimeoutError,
  TlsError,
  UnreachableError,
  USAGE_CODES,
  UsageError,
} from './errors.js';
export { type Codec, type Decoded, toBytes } from './framing/codec.js';
export { Deframer } from './framing/deframer.js';
export { DEFAULT_MAX_FRAME_SIZE, type DelimiterOptions, delimiterCodec } from './framing/delimiter.js';
export { codecFor, FRAME_NAMES, type FrameName, isFrameName } from './framing/frame-names.js';
export { FramedConn, type FramedConnOptions } from './framing/framed-conn.js';
export { type LengthPrefix, type LengthPrefixOptions, lengthPrefixCodec } from './framing/length-prefix.js';
export { type LineOptions, lineCodec } from './framing/line.js';
export { type RelayFramesOptions, relayFrames } from './framing/relay-frames.js';
export { decodeVarint, encodeVarint, MAX_VARINT_BYTES } from './framing/varint.js';
export {
  type IntervalStream,
  type PerfClientOptions,
  type PerfInterval,
  type PerfReport,
  type PerfStart,
  type PerfStreamInfo,
  type PerfStreamReport,
  perfClient,
  SOCKKIT_PERF_VERSION,
} from './perf/client.js';
export {
  COOKIE_SIZE,
  type Cookie,
  decodeCookie,
  decodeJson,
  decodeServerError,
  decodeState,
  encodeCookie,
  encodeJson,
  encodeServerError,
  encodeState,
  IperfErrno,
  makeCookie,
  PerfState,
  type ServerError,
  stateName,
} from './perf/control-codec.js';
export { iperfJson, iperfJsonEnd, iperfJsonInterval, iperfJsonStart } from './perf/iperf-json.js';
export { JitterEstimator } from './perf/jitter.js';
export {
  type PerfDirection,
  type PerfParams,
  type PerfProtocol,
  paramsFromWire,
  paramsToWire,
} from './perf/params.js';
export type { StreamCounts } from './perf/perf-stream.js';
export { percentile, type Responsiveness, type RttSummary, summarizeRtts } from './perf/responsiveness.js';
export { type PerfResults, resultsFromWire, resultsToWire, type StreamResult } from './perf/results.js';
export {
  listenPerf,
  type PerfListeners,
  type PerfServeOptions,
  type PerfServeSummary,
  servePerf,
} from './perf/server.js';
export type { ServerTestSummary } from './perf/server-test.js';
export { type IperfUdpHeader, readUdpHeader, udpHeaderSize, writeUdpHeader } from './perf/udp-header.js';
export { UdpSequenceCounter } from './perf/udp-sequence.js';
export { internetChecksum } from './raw/checksum.js';
export type { ProbeOutcome, ProbeReply, ProbeSession } from './raw/echo-run.js';
export {
  type EchoErrorOutcome,
  type EchoOutcome,
  type EchoReply,
  EchoSession,
  type WireEvent,
} from './raw/echo-session.js';
export { type FlowProtocol, FlowSession, type FlowSessionOptions } from './raw/flow-session.js';
export { type Field, formatHexdump, type PacketLayout, packetFields } from './raw/hexdump.js';
export { HopStatistics, type HopSummary } from './raw/hop-statistics.js';
export {
  decodeIcmp,
  type EchoMessage,
  type ErrorMessage,
  encodeEcho,
  type IcmpMessage,
  type IpFamily,
  type QuotedPacket,
} from './raw/icmp.js';
export { describeIcmpError, icmpTypeName } from './raw/icmp-names.js';
export { IcmpSocket, type ReceivedPacket } from './raw/icmp-socket.js';
export { decodeIPv4Header, type IPv4Header } from './raw/ipv4-header.js';
export { decodeIPv6Header, type IPv6Header } from './raw/ipv6-header.js';
export { Mtr, type MtrOptions, type MtrReport, mtr } from './raw/mtr.js';
export {
  DEFAULT_PAYLOAD,
  MAX_PAYLOAD,
  Ping,
  type PingEvent,
  type PingOptions,
  ping,
  pingOnce,
} from './raw/ping.js';
export { PingStatistics, type PingSummary } from './raw/ping-statistics.js';
export { IPPROTO_TCP, IPPROTO_UDP, pseudoHeader, transportChecksum } from './raw/pseudo-header.js';
export {
  decodeQuotedTcp,
  decodeTcpHeader,
  encodeSyn,
  type QuotedTcp,
  SYN_LENGTH,
  type SynFields,
  TcpFlag,
  type TcpHeader,
} from './raw/tcp-header.js';
export {
  DEFAULT_PROBE_PAYLOAD,
  DEFAULT_TRACE_PORT,
  type Hop,
  type Probe,
  type TraceProtocol,
  Traceroute,
  type TracerouteOptions,
  traceroute,
} from './raw/traceroute.js';
export { type Segment, TransportSocket } from './raw/transport-socket.js';
export { decodeUdpHeader, type UdpHeader } from './raw/udp-header.js';
export { encodeUdpProbe, MIN_UDP_PROBE_PAYLOAD, type UdpProbeFields } from './raw/udp-probe.js';
export { type ResolvedHost, resolveHost } from './resolve.js';
export { MAX_PORT, parsePorts } from './scan/ports.js';
export {
  DEFAULT_SCAN_TIMEOUT,
  type PortReason,
  type PortResult,
  type PortState,
  Scan,
  type ScanOptions,
  scan,
} from './scan/scan.js';
export { type TlsCheck, type TlsCheckOptions, tlsCheck } from './scan/tls-check.js';
export { AccessRules, type Cidr, parseCidr } from './security/access.js';
export {
  type Certificate,
  certificateFingerprint,
  certificateNames,
  selfSignedCertificate,
} from './security/certificate.js';
export { ConnectionGuard, type ConnectionLimits, type GuardStats } from './security/connection-guard.js';
export { DatagramGuard, type DatagramGuardStats, type DatagramLimits } from './security/datagram-guard.js';
export { DESCRIPTOR_RESERVE, type DescriptorBudget, descriptorBudget } from './security/descriptors.js';
export type { LimitEvent, LimitName, LimitOption } from './security/limit-event.js';
export {
  DEFAULT_REPLY_BUDGET,
  isLoopbackHost,
  ReplyBudget,
  type ReplyBudgetOptions,
} from './security/reply-budget.js';
export {
  chargenBytes,
  chargenDatagram,
  chargenLine,
  chargenStream,
  createChargenDatagram,
} from './services/chargen.js';
export { daytimeDatagram, daytimeLine, daytimeStream } from './services/daytime.js';
export { discardDatagram, discardStream } from './services/discard.js';
export { echoDatagram, echoStream } from './services/echo.js';
export { type Service, type ServiceName, serviceNamed, services } from './services/index.js';
export { decodeTime, encodeTime, timeDatagram, timeStream } from './services/time.js';
export { Conn, type ConnInit } from './stream/conn.js';
export { type DialOptions, dial, withDeadline } from './stream/dial.js';
export { type FanOutEvent, type FanOutOptions, type FanOutSummary, fanOut } from './stream/fan-out.js';
export { type AcceptGuard, Listener, type ListenOptions, listen } from './stream/listen.js';
export { type RelayOptions, relay } from './stream/relay.js';
export {
  type ServedConn,
  type ServeOptions,
  type ServeSummary,
  type StreamService,
  serve,
} from './stream/serve.js';
export {
  DEFAULT_HANDSHAKE_TIMEOUT,
  describeHandshake,
  MIN_TLS_VERSION,
  normalizeFingerprint,
  type TlsClientOptions,
  type TlsServerOptions,
} from './stream/tls.js';
export {
  type ClientTransportOptions,
  type ServerTransportOptions,
  STREAM_SCHEMES,
  type StreamAddress,
} from './stream/transports.js';
export { narrate, narrator, type SocketKind, type TraceEvent, type Tracer, type TraceStep } from './trace.js';
export {
  formatBytes,
  formatDuration,
  GiB,
  KiB,
  MAX_TIMER,
  MiB,
  parseCount,
  parseDuration,
  parseRate,
  parseSize,
} from './units.js';
export { MAX_EXPECT_BYTES, type WaitOptions, type WaitResult, waitFor } from './wait.js';
export {
  DEFAULT_WEBSOCKET_TIMEOUT,
  dialWebSocket,
  type WebSocketClientOptions,
} from './websocket/dial-websocket.js';
export { echoMessages } from './websocket/echo-messages.js';
export {
  DEFAULT_UPGRADE_TIMEOUT,
  listenWebSocket,
  type WebSocketServerOptions,
} from './websocket/listen-websocket.js';
export {
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_MAX_BUFFERED,
  DEFAULT_MAX_MESSAGE_SIZE,
  type KeepaliveOptions,
  WebSocketConn,
  type WebSocketConnInit,
  type WebSocketMessage,
} from './websocket/websocket-conn.js';
