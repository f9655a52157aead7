/**
 * The demos by name: what `sockkit demo [kind|url]` and the page's buttons choose from, and the
 * one function that runs any of them.
 */

import { type InetAddress, parseAddress, type SocketAddress, UsageError } from '../../../index.js';
import { datagramDemo } from './datagram.js';
import type { Narration } from './narration.js';
import { rawDemo } from './raw.js';
import { streamDemo } from './stream.js';
import { tlsDemo } from './tls.js';

/** DEMO_KINDS are the demos by name, in the order the page shows them. */
export const DEMO_KINDS = ['tcp', 'udp', 'tls', 'raw'] as const;
export type DemoKind = (typeof DEMO_KINDS)[number];

/** DemoTarget is one demo to run: its kind and, but for raw, where its server listens. */
export type DemoTarget =
  | { readonly kind: 'tcp'; readonly address: SocketAddress }
  | { readonly kind: 'udp' | 'tls'; readonly address: InetAddress }
  | { readonly kind: 'raw' };

/** isDemoKind tells whether `name` names a demo. */
export function isDemoKind(name: string): name is DemoKind {
  return (DEMO_KINDS as readonly string[]).includes(name);
}

/** defaultTarget is where `kind`'s demo runs when no URL is given: loopback, any free port. */
export function defaultTarget(kind: DemoKind): DemoTarget {
  if (kind === 'raw') return { kind };
  if (kind === 'tcp') return { kind, address: { scheme: 'tcp', host: '127.0.0.1', port: 0 } };
  return { kind, address: { scheme: kind, host: '127.0.0.1', port: 0 } };
}

/**
 * demoTarget reads `demo`'s argument: a kind (`tcp`, `udp`, `tls`, `raw`), or a URL whose scheme
 * chooses the demo (`tcp://` and `unix:` the stream demo). Throws UsageError for anything else.
 */
export function demoTarget(argument: string | undefined): DemoTarget {
  if (argument === undefined) return defaultTarget('tcp');
  if (isDemoKind(argument)) return defaultTarget(argument);
  if (!argument.includes(':')) {
    throw new UsageError('demo', `unknown demo "${argument}" (use ${DEMO_KINDS.join(', ')}, or a URL)`);
  }
  const address = parseAddress(argument);
  if (address.scheme === 'udp' || address.scheme === 'tls') return { kind: address.scheme, address };
  return { kind: 'tcp', address };
}

/**
 * runDemo runs `target`'s demo, telling it to `story`, and resolves true when everything behaved
 * as the narration says. Rejects with the SockkitError of a step that failed.
 */
export function runDemo(target: DemoTarget, message: string, story: Narration): Promise<boolean> {
  switch (target.kind) {
    case 'tcp':
      return streamDemo(target.address, message, story);
    case 'udp':
      return datagramDemo(target.address, message, story);
    case 'tls':
      return tlsDemo(target.address, message, story);
    case 'raw':
      return rawDemo(message, story);
  }
}
