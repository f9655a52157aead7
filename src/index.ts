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
export {
  type BenchOptions,
  type BenchReport,
  type BenchRun,
  bench,
  benchRun,
  type IntervalReport,
} from './bench/bench.js';
export { type Comparison, compareWithBaseline, parseBaseline } from './bench/compare.js';
export { chartJsSource, type HtmlReportData, htmlReport, machineDescription } from './bench/html-report.js';
export { type PercentilePoint, percentileCurve } from './bench/latency.js';
export type { MismatchSample } from './bench/reply-check.js';
export { benchJson } from './bench/report-json.js';
export { MAX_REPLY_SIZE, type RequestSpec } from './bench/request-spec.js';
export { SUBSTITUTIONS, splitRequestLines, unescapeBytes } from './bench/request-template.js';
export {
  formatUs,
  parseSlo,
  type SloResult,
  type SloSearchOptions,
  type SloStep,
  type SloTarget,
  sloSearch,
} from './bench/slo-search.js';
export { type Endpoint, formatEndpoint, type Program, parseEndpoint, programOf } from './bridge/endpoint.js';
export {
  type BridgeConn,
  type BridgePair,
  type ForwardEvent,
  type Forwarder,
  type ForwardOptions,
  type ForwardSummary,
  forward,
} from './bridge/forward.js';
export {
  DEFAULT_MAX_SESSIONS,
  DEFAULT_UDP_IDLE,
  type ForwardPacketsOptions,
  forwardPackets,
} from './bridge/forward-packets.js';
export { type JoinFilters, type JoinOptions, type JoinSummary, join } from './bridge/join.js';
export { type OpenEndpointOptions, type OpenedEndpoint, openEndpoint } from './bridge/open-endpoint.js';
export {
  DEFAULT_PROGRAM_GRACE,
  type ProgramExit,
  type ProgramOptions,
  type ProgramSide,
  programEnv,
  startProgram,
} from './bridge/program.js';
export { type RelayEndpointsOptions, relayEndpoints } from './bridge/relay-endpoints.js';
export { splitWords } from './bridge/shell-words.js';
export { type BridgeSide, connSide, resetSocket, streamSide } from './bridge/side.js';
export { webSocketSide } from './bridge/websocket-side.js';
export { Capture, type CaptureOptions, UNIX_FLOW_ADDRESS, UNIX_SERVER_PORT } from './capture/capture.js';
export { type PacketEndpoint, type TcpSegmentFields, tcpPacket, udpPacket } from './capture/ip-packet.js';
export {
  BlockType,
  BYTE_ORDER_MAGIC,
  CAPTURE_SNAPLEN,
  encodeEnhancedPacket,
  encodeInterfaceDescription,
  encodeSectionHeader,
  LINKTYPE_RAW,
  OptionCode,
  type PcapngOption,
} from './capture/pcapng.js';
export type {
  PacketTap,
  PacketTapFactory,
  PacketTapInfo,
  StreamTap,
  StreamTapFactory,
  StreamTapInfo,
  TapDirection,
} from './capture/tap.js';
export { type FlowSide, MAX_SEGMENT_DATA, TcpFlow, type TcpFlowOptions } from './capture/tcp-flow.js';
export { formatTrafficChunk, formatTrafficEvent, type TrafficChunk } from './capture/traffic-hexdump.js';
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
export { type DatagramPath, datagramPath, type SocketUse } from './datagram/native-io.js';
export {
  type Datagram,
  type ErrorHandler,
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
  ProxyRefusedError,
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
export {
  DatagramFaults,
  type DatagramFaultsOptions,
  DEFAULT_HOLD_BYTES,
  DEFAULT_HOLD_LIMIT,
} from './faults/datagram-faults.js';
export { type FaultCounts, newFaultCounts } from './faults/fault-counts.js';
export { FaultFilter } from './faults/fault-filter.js';
export {
  checkFaultPlan,
  DATAGRAM_FAULTS,
  type FaultLimit,
  type FaultPlan,
  hasDatagramFaults,
  hasStreamFaults,
  MAX_FAULT_DELAY,
  MAX_FAULT_LIMIT_MS,
  MAX_SLICE,
  MAX_THROTTLE,
  STREAM_FAULTS,
} from './faults/fault-plan.js';
export {
  ByteBudget,
  DEFAULT_QUEUE_LIMIT,
  type FaultSink,
  FaultStage,
  type FaultStageOptions,
} from './faults/fault-stage.js';
export { MAX_SEED, Prng, randomSeed, splitmix64 } from './faults/prng.js';
export { StreamFaults, type StreamFaultsOptions } from './faults/stream-faults.js';
export { MAX_BURST, TokenBucket } from './faults/token-bucket.js';
export { type Codec, type Decoded, toBytes } from './framing/codec.js';
export { Deframer } from './framing/deframer.js';
export { DEFAULT_MAX_FRAME_SIZE, type DelimiterOptions, delimiterCodec } from './framing/delimiter.js';
export {
  codecFor,
  FRAME_NAMES,
  type FrameName,
  type FramingOptions,
  isFrameName,
  isTextFraming,
} from './framing/frame-names.js';
export { FramedConn, type FramedConnOptions } from './framing/framed-conn.js';
export { type LengthPrefix, type LengthPrefixOptions, lengthPrefixCodec } from './framing/length-prefix.js';
export { type LineOptions, lineCodec } from './framing/line.js';
export { type RelayFramesOptions, relayFrames } from './framing/relay-frames.js';
export { decodeVarint, encodeVarint, MAX_VARINT_BYTES } from './framing/varint.js';
export { checkLocalEnd, familyToTry, type LocalEnd } from './local-end.js';
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
  DEFAULT_TCP_BLOCK,
  DEFAULT_UDP_BLOCK,
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
export { Credentials, parseUser } from './proxy/credentials.js';
export {
  type DestinationRule,
  DestinationRules,
  type PortRange,
  parseDestinationRule,
  type Verdict,
} from './proxy/destination-rules.js';
export {
  decodeHttpRequest,
  decodeHttpResponse,
  type HeadDecoded,
  type HttpHeader,
  type HttpRequestHead,
  type HttpResponseHead,
  headerValue,
  MAX_HTTP_HEAD,
} from './proxy/http-head.js';
export { proxyService } from './proxy/proxy-server.js';
export {
  DEFAULT_PROXY_CONNECT_TIMEOUT,
  DEFAULT_PROXY_HANDSHAKE_TIMEOUT,
  type ProxyLogEvent,
  type ProxyServerOptions,
} from './proxy/proxy-session.js';
export {
  formatProxyUrl,
  PROXY_PROTOCOLS,
  type ProxyProtocol,
  type ProxyUrl,
  parseProxyUrl,
} from './proxy/proxy-url.js';
export {
  decodeSocks4Request,
  encodeSocks4Reply,
  MAX_SOCKS4_FIELD,
  SOCKS4_VERSION,
  Socks4Reply,
  type Socks4Request,
} from './proxy/socks4-codec.js';
export {
  decodeSocks5Datagram,
  decodeSocks5Greeting,
  decodeSocks5Login,
  decodeSocks5Request,
  encodeAddress as encodeSocks5Address,
  encodeSocks5Choice,
  encodeSocks5Datagram,
  encodeSocks5LoginStatus,
  encodeSocks5Reply,
  SOCKS5_VERSION,
  Socks5Command,
  type Socks5Datagram,
  type Socks5Greeting,
  type Socks5Login,
  Socks5Method,
  Socks5Reply,
  type Socks5Request,
} from './proxy/socks5-codec.js';
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
  encodeSocketFilter,
  flowFilterProgram,
  flowMatcher,
  type SocketFilterInstruction,
  type TransportFlow,
} from './raw/socket-filter.js';
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
export {
  type FlowFilter,
  type Segment,
  TransportSocket,
  type TransportSocketOptions,
} from './raw/transport-socket.js';
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
export { type AcceptGuard, Listener, type ListenOptions, listen, MAX_BACKLOG } from './stream/listen.js';
export { type RelayOptions, relay } from './stream/relay.js';
export {
  type ServedConn,
  type ServeOptions,
  type ServeSummary,
  type StreamService,
  serve,
} from './stream/serve.js';
export {
  MAX_KEEPALIVE_IDLE,
  type TcpClientOptions,
  type TcpServerOptions,
  type TcpSocketOptions,
} from './stream/tcp-options.js';
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
  formatCount,
  formatDuration,
  formatRate,
  formatSize,
  GiB,
  KiB,
  MAX_TIMER,
  MiB,
  parseCount,
  parseDuration,
  parseRate,
  parseSize,
  plural,
} from './units.js';
export { MAX_EXPECT_BYTES, type WaitOptions, type WaitResult, waitFor } from './wait.js';
export { DEFAULT_WEBSOCKET_TIMEOUT, dialWebSocket } from './websocket/dial-websocket.js';
export { echoMessages } from './websocket/echo-messages.js';
export { DEFAULT_UPGRADE_TIMEOUT, listenWebSocket } from './websocket/listen-websocket.js';
export {
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_MAX_BUFFERED,
  DEFAULT_MAX_MESSAGE_SIZE,
  WebSocketConn,
  type WebSocketConnInit,
  type WebSocketMessage,
} from './websocket/websocket-conn.js';
export type {
  KeepaliveOptions,
  WebSocketClientOptions,
  WebSocketServerOptions,
} from './websocket/websocket-options.js';
