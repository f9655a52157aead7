/**
 * The flags every simple-service server takes, `sockkit serve SERVICE` and its short form
 * `sockkit echo` alike: grace, dual-stack, workers, the datagram flags, limits, reply budget and
 * TLS. One builder, so the two spellings of the echo server cannot drift apart.
 */
import { type Command, Option } from 'commander';
import { parseCount } from '../../index.js';
import { durationDefault, durationOption } from './common.js';
import { type FaultFlags, withFaultOptions } from './faults.js';
import { type LimitFlags, type ReplyBudgetFlags, withLimitOptions, withReplyBudgetOption } from './limits.js';
import { addPacketFlags, type PacketFlags } from './packet.js';
import { type ServerSocketFlags, withServerSocketOptions } from './socket.js';
import { type TlsServerFlags, withTlsServerOptions } from './tls.js';
import { type WebSocketServerFlags, withWebSocketServerOptions } from './websocket.js';

/** ServiceRunOptions are the parsed service flags. */
export interface ServiceRunOptions
  extends PacketFlags,
    TlsServerFlags,
    LimitFlags,
    ReplyBudgetFlags,
    FaultFlags,
    ServerSocketFlags,
    WebSocketServerFlags {
  grace: number;
  workers: number;
}

/** withServiceOptions adds the service flags to `command`; `usage` names it in flag errors. */
export function withServiceOptions(command: Command, usage = command.name()): Command {
  command
    .addOption(
      new Option('--grace <duration>', 'time open connections get to finish at shutdown')
        .default(...durationDefault(5000))
        .argParser(durationOption('--grace', 0)),
    )
    .addOption(
      new Option('--workers <n>', 'tcp/tls: spread the listeners over N processes (one per core)')
        .default(1)
        .argParser((v) => parseCount(v, '--workers', 1, 256)),
    );
  withServerSocketOptions(command);
  addPacketFlags(command);
  withWebSocketServerOptions(command);
  return withFaultOptions(
    withReplyBudgetOption(withLimitOptions(withTlsServerOptions(command, usage), usage)),
    usage,
  );
}
