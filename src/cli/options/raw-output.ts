/**
 * Output shared by `sockkit ping` and `sockkit traceroute`: round-trip times as iputils prints
 * them, the -4/-6 choice, and annotated hex dumps of the packets on the wire.
 */
import {
  formatHexdump,
  type IpFamily,
  icmpTypeName,
  packetFields,
  UsageError,
  type WireEvent,
} from '../../index.js';

/** formatRtt writes milliseconds as iputils ping does: 3 decimals under 1 ms, 2 under 10, 1 under 100, then none. */
export function formatRtt(ms: number): string {
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}

/** familyOf reads -4/-6 (at most one). */
export function familyOf(command: string, options: { ipv4?: boolean; ipv6?: boolean }): IpFamily | undefined {
  if (options.ipv4 && options.ipv6) throw new UsageError(command, '-4 and -6 exclude each other');
  return options.ipv4 ? 4 : options.ipv6 ? 6 : undefined;
}

/** hexdumpWriter returns an onWire callback that writes each packet, annotated by field, with `write`. */
export function hexdumpWriter(write: (text: string) => void): (event: WireEvent) => void {
  return (event) => {
    const fields = packetFields(event.bytes, event.layout);
    const icmpAt = event.layout.ipHeader ? ((event.bytes[0] ?? 0) & 0x0f) * 4 : 0;
    const type = event.bytes[icmpAt] ?? -1;
    const what = `${event.layout.family === 4 ? 'ICMP' : 'ICMPv6'} ${icmpTypeName(event.layout.family, type)}`;
    const limit =
      event.ttl === undefined ? '' : ` with ${event.layout.family === 4 ? 'TTL' : 'hop limit'} ${event.ttl}`;
    const arrow =
      event.direction === 'sent'
        ? `> sent ${event.bytes.length} bytes to ${event.address}${limit}`
        : `< received ${event.bytes.length} bytes from ${event.address}`;
    const note =
      event.direction === 'sent' && event.layout.family === 4 ? ' (the kernel adds the IPv4 header)' : '';
    write(`${arrow}: ${what}${note}\n${formatHexdump(event.bytes, fields)}`);
  };
}
