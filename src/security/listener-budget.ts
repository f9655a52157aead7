/**
 * ListenerBudget keeps a server from running its process out of file descriptors: connections
 * beyond a budget (see `descriptorBudget` in descriptors.ts) are closed as they are accepted.
 * It is enforced by Node's own `server.maxConnections`, split evenly across the listeners it is
 * given, so it costs nothing per admitted connection; Node reports each connection it closes for
 * it as 'drop', and the budget reports that as an `emfile` LimitEvent.
 */
import type { Server } from 'node:net';
import { formatHostPort } from '../address.js';
import { unmapIPv4 } from './access.js';
import type { LimitEvent } from './limit-event.js';

/** ListenerBudget splits one budget of connections across the listeners added to it. */
export class ListenerBudget {
  readonly #budget: number;
  readonly #report: (event: LimitEvent) => void;
  readonly #servers: Server[] = [];

  /** The constructor takes the budget (connections, a positive whole number) and a function told of each connection dropped. */
  constructor(budget: number, report: (event: LimitEvent) => void) {
    this.#budget = budget;
    this.#report = report;
  }

  /** add puts `server` under the budget, and shares the budget again across every server added so far. */
  add(server: Server): void {
    this.#servers.push(server);
    const share = Math.max(1, Math.floor(this.#budget / this.#servers.length));
    for (const each of this.#servers) each.maxConnections = share;
    server.on('drop', (data?: { remoteAddress?: string; remotePort?: number }) => {
      const peer = data?.remoteAddress
        ? formatHostPort(unmapIPv4(data.remoteAddress), data.remotePort ?? 0)
        : '';
      this.#report({
        limit: 'emfile',
        peer,
        detail: `refused: ${server.maxConnections} connections open on this listener, one more would run the process out of file descriptors (raise ulimit -n)`,
      });
    });
  }
}
