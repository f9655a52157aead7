/**
 * Development certificates, made in memory by the `selfsigned` package (never hand-written ASN.1),
 * and the SHA-256 fingerprint a client can pin.
 */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/** Certificate is a PEM certificate with its private key and SHA-256 fingerprint. */
export interface Certificate {
  readonly cert: string;
  readonly key: string;
  /** The SHA-256 fingerprint of the DER certificate, as `AB:CD:...` (what `openssl x509 -fingerprint -sha256` prints). */
  readonly fingerprint: string;
}

/** SelfSignedOptions tune `selfSignedCertificate`. */
export interface SelfSignedOptions {
  /** How long the certificate is valid from now, in days. Default 30. */
  readonly days?: number | undefined;
}

/**
 * selfSignedCertificate makes a self-signed certificate (ECDSA P-256, SHA-256) whose subject
 * alternative names are `names`: each IP literal becomes an IP entry, anything else a DNS name.
 * The first name is the common name. Throws RangeError when `names` is empty.
 */
export async function selfSignedCertificate(
  names: readonly string[],
  options: SelfSignedOptions = {},
): Promise<Certificate> {
  const unique = [...new Set(names.map((n) => n.replace(/\.$/, '')))];
  if (unique.length === 0) throw new RangeError('selfSignedCertificate needs at least one name');
  const notBeforeDate = new Date(Date.now() - 60_000); // allow a minute of clock skew
  const notAfterDate = new Date(notBeforeDate.getTime() + (options.days ?? 30) * 86_400_000);
  // Loaded on first use: it is most of a command's start-up time, and only --self-signed needs it.
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: unique[0] as string }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      {
        name: 'subjectAltName',
        altNames: unique.map((n) => (isIP(n) ? { type: 7 as const, ip: n } : { type: 2 as const, value: n })),
      },
    ],
  });
  return { cert: pems.cert, key: pems.private, fingerprint: certificateFingerprint(pems.cert) };
}

/** certificateFingerprint returns the SHA-256 fingerprint (`AB:CD:...`) of the first certificate in a PEM text. */
export function certificateFingerprint(pem: string | Buffer): string {
  return new X509Certificate(pem).fingerprint256;
}

/**
 * certificateNames lists the names a development certificate for `host` should carry: the host
 * itself and the addresses it resolved to; for a wildcard (`0.0.0.0`, `::`) every local interface
 * address and this machine's names; `localhost` whenever a loopback address is among them.
 */
export function certificateNames(host: string, resolved: readonly string[], hostname: string): string[] {
  const wildcard = host === '0.0.0.0' || host === '::';
  const names = wildcard ? [hostname] : [host];
  names.push(...resolved.filter((ip) => ip !== '0.0.0.0' && ip !== '::'));
  if (wildcard) {
    for (const list of Object.values(networkInterfaces()))
      for (const nic of list ?? []) names.push(nic.address);
  }
  if (names.some((n) => n === '::1' || n.startsWith('127.'))) names.push('localhost');
  return [...new Set(names.map((n) => n.replace(/%.*$/, '')))];
}
