/**
 * The local address the kernel would send from, found without sending anything; ICMPv6 needs it
 * for the pseudo-header its checksum covers.
 */
import { createSocket as createUdpSocket } from 'node:dgram';
import type { IpFamily, Pseudo } from './icmp.js';

/**
 * localAddressFor returns the source address the kernel would use to reach `destination`, found
 * by connecting a UDP socket (which sends nothing). ICMPv6 needs it for its checksum's
 * pseudo-header. Resolves undefined when there is no route.
 */
export function localAddressFor(destination: string, family: IpFamily): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = createUdpSocket(family === 4 ? 'udp4' : 'udp6');
    socket.on('error', () => {
      socket.close();
      resolve(undefined);
    });
    socket.connect(9, destination, () => {
      const local = socket.address().address;
      socket.close();
      resolve(local);
    });
  });
}

/** pseudoFor returns the ICMPv6 pseudo-header addresses for sending to `destination`, when known. */
export async function pseudoFor(destination: string, family: IpFamily): Promise<Pseudo | undefined> {
  if (family === 4) return undefined;
  const source = await localAddressFor(destination, family);
  return source ? { source, destination } : undefined;
}
