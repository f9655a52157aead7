/**
 * relayEndpoints joins two active endpoints (`sockkit relay A B`): each a client URL, `-` for
 * stdin and stdout, or a program, copied into each other until both directions are closed.
 */
import type { SockkitError } from '../errors.js';
import type { Endpoint } from './endpoint.js';
import { type JoinFilters, type JoinSummary, join } from './join.js';
import { type OpenEndpointOptions, type OpenedEndpoint, openEndpoint } from './open-endpoint.js';

/** RelayEndpointsOptions tune `relayEndpoints`: how sockets are dialled, what `-` is, and filters. */
export interface RelayEndpointsOptions extends Omit<OpenEndpointOptions, 'connection'> {
  /** Streams on the way of each direction, `aToB` for what `a` sends (see JoinFilters). */
  readonly filters?: JoinFilters | undefined;
}

/**
 * relayEndpoints opens `a` and `b` (sockets first, then programs: a program learns the first
 * socket's addresses from its environment), joins them (see `join`) and resolves once both
 * directions are done, or one side closed, or the signal aborted, with everything closed. It
 * rejects, having closed what it opened, when an endpoint cannot be opened: as `dial` does for a
 * socket, `startProgram` for a program.
 */
export async function relayEndpoints(
  a: Endpoint,
  b: Endpoint,
  options: RelayEndpointsOptions = {},
): Promise<JoinSummary> {
  const opened: (OpenedEndpoint | undefined)[] = [undefined, undefined];
  const order = a.kind === 'program' && b.kind !== 'program' ? [1, 0] : [0, 1];
  let connection: OpenedEndpoint['conn'];
  try {
    for (const i of order) {
      const endpoint = (i === 0 ? a : b) as Endpoint;
      const live = await openEndpoint(endpoint, { ...options, connection });
      opened[i] = live;
      connection ??= live.conn;
    }
  } catch (err) {
    for (const live of opened) live?.side.close();
    await Promise.all(opened.map((live) => live?.side.closed));
    throw err as SockkitError;
  }
  const [first, second] = opened as [OpenedEndpoint, OpenedEndpoint];
  return join(first.side, second.side, { signal: options.signal, filters: options.filters });
}
