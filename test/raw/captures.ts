/**
 * Packets captured for real, with `tcpdump -i any -w` inside a test namespace of host A
 * (10.77.1.2, fd77:1::2), router R (10.77.1.1 and 10.77.2.1, fd77:1::1 and fd77:2::1) and host B
 * (10.77.2.2, fd77:2::2), while iputils `ping` and `traceroute` ran in A. Each is the IP packet as
 * it crossed A's interface (link-layer header removed); see docs/raw-sockets.md for the commands.
 */

/** hex turns a capture into bytes. */
export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

/** `ping -c1 10.77.2.2`: the echo request, IPv4 header and ICMP, id 0x24f5, seq 1, 56 data bytes. */
export const echoRequest4 = hex(
  '45000054d8c2400040014a490a4d01020a4d020208002cc424f50001d7e0056b000000000927010000000000' +
    '101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637',
);

/** The reply to echoRequest4, from B, one router away (TTL 63). */
export const echoReply4 = hex(
  '4500005480ab00003f01e3600a4d02020a4d0102000034c424f50001d7e0056b000000000927010000000000' +
    '101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637',
);

/** `ping -6 -c1 fd77:2::2`: IPv6 header and ICMPv6 echo request, id 0x24f6, seq 1. */
export const echoRequest6 = hex(
  '60045d5c00403a40fd770001000000000000000000000002fd770002000000000000000000000002' +
    '8000ab4224f60001d7e0056b000000001736010000000000' +
    '101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637',
);

/** The ICMPv6 echo reply to echoRequest6 (hop limit 63). */
export const echoReply6 = hex(
  '600e9da700403a3ffd770002000000000000000000000002fd770001000000000000000000000002' +
    '8100aa4224f60001d7e0056b000000001736010000000000' +
    '101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637',
);

/** `ping -c1 -t1 10.77.2.2`: R's time exceeded, quoting the request (id 0x24f7, seq 1) as it arrived at R, TTL 1. */
export const timeExceeded4 = hex(
  '45c000706e9600004001f49a0a4d01010a4d0102' +
    '0b00f4ff00000000' +
    '45000054d8c44000010189470a4d01020a4d0202080044a824f70001d7e0056b00000000f140010000000000' +
    '101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637',
);

/** `ping -6 -c1 -t1 fd77:2::2`: R's ICMPv6 time exceeded quoting the request (id 0x24f8, seq 1). */
export const timeExceeded6 = hex(
  '6007c29800703a40fd770001000000000000000000000001fd770001000000000000000000000002' +
    '03000a3900000000' +
    '60045d5c00403a01fd770001000000000000000000000002fd770002000000000000000000000002' +
    '8000232a24f80001d7e0056b000000009f4c010000000000' +
    '101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637',
);

/** `traceroute 10.77.2.2` (UDP probes): B's port unreachable quoting a UDP datagram to port 33435. */
export const portUnreachable4 = hex(
  '45c0005880ac00003f01e29b0a4d02020a4d0102' +
    '0303e69f00000000' +
    '4500003c00f700000111a11d0a4d01020a4d0202' +
    '86bd829b002817d7404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f',
);

/** `traceroute -6 fd77:2::2`: B's ICMPv6 port unreachable quoting a UDP datagram to port 33435. */
export const portUnreachable6 = hex(
  '6003c07900583a3ffd770002000000000000000000000002fd770001000000000000000000000002' +
    '0104bf5700000000' +
    '600f950f00281101fd770001000000000000000000000002fd770002000000000000000000000002' +
    'cfe3829b0028fb2f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f',
);

/** `ping -c2 10.77.2.99` (absent): R's host unreachable after ARP failed, quoting seq 1. */
export const hostUnreachable4 = hex(
  '45c000706f7100004001f3bf0a4d01010a4d0102' +
    '0301fcfe00000000' +
    '4500005465dc40003f01bdce0a4d01020a4d02630800626824fc0001d7e0056b00000000d37b010000000000' +
    '101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637',
);

/** `ping -c1 -s 8 10.77.2.2`: the smallest request iputils sends with a payload: 8 bytes. */
export const smallRequest4 = hex('45000024d8c7400040014a740a4d01020a4d02020800c6f324fb00010001020304050607');

/** The addresses of the test network, as the captures use them. */
export const A4 = '10.77.1.2';
export const R4 = '10.77.1.1';
export const B4 = '10.77.2.2';
export const A6 = 'fd77:1::2';
export const R6 = 'fd77:1::1';
export const B6 = 'fd77:2::2';
