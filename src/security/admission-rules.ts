/**
 * AdmissionRules decide whether one more peer may connect: who may connect at all (AccessRules),
 * how many connections may be open at once, and how many from one IP address. They count the
 * peers they let in until told each one has gone; they never touch a socket, so they are tested
 * without one.
 */
import type { AccessRules } from './access.js';
import type { LimitEvent } from './limit-event.js';

/** AdmissionLimits are the limits AdmissionRules apply; an absent one is off. */
export interface AdmissionLimits {
  /** At most this many connections open at once. */
  readonly maxConnections?: number | undefined;
  /** At most this many connections open at once from one IP address. */
  readonly maxPerIp?: number | undefined;
  /** Who may connect. */
  readonly access?: AccessRules | undefined;
}

/** Refusal says why AdmissionRules turned a peer away, in the terms of a LimitEvent. */
export interface Refusal {
  readonly limit: 'max-connections' | 'max-per-ip' | 'access';
  readonly detail: string;
  readonly option: NonNullable<LimitEvent['option']>;
}

/** AdmissionRules hold the limits and the counts of one guard: they are shared by nobody else. */
export class AdmissionRules {
  readonly #limits: AdmissionLimits;
  readonly #perIp = new Map<string, number>();
  #open = 0;

  /** The constructor takes the limits; it does not check them (ConnectionGuard does). */
  constructor(limits: AdmissionLimits) {
    this.#limits = limits;
  }

  /** open is how many admitted peers are counted in now (always 0 without a count limit). */
  get open(): number {
    return this.#open;
  }

  /** needsAddress tells whether a rule judges the peer's IP address (`access` or `maxPerIp` is set). */
  get needsAddress(): boolean {
    return this.#limits.access !== undefined || this.#limits.maxPerIp !== undefined;
  }

  /**
   * counts tells whether admitted peers are counted (a count limit is set). Only then must each
   * one be released; without one, admitting costs a few comparisons.
   */
  get counts(): boolean {
    return this.#limits.maxConnections !== undefined || this.#limits.maxPerIp !== undefined;
  }

  /**
   * admit decides on a peer at `ip` (undefined for a peer with no address, such as a Unix socket's:
   * then only `maxConnections` applies). It returns the Refusal, or undefined after counting the
   * peer in (when `counts`): call `release(ip)` with the same `ip` once it has gone.
   */
  admit(ip: string | undefined): Refusal | undefined {
    const { access, maxConnections, maxPerIp } = this.#limits;
    if (access && ip !== undefined && !access.permits(ip)) {
      return { limit: 'access', detail: `refused: ${ip} is not allowed`, option: { name: 'access' } };
    }
    if (maxConnections !== undefined && this.#open >= maxConnections) {
      return {
        limit: 'max-connections',
        detail: `refused: ${this.#open} connection${this.#open === 1 ? '' : 's'} open`,
        option: { name: 'maxConnections', value: maxConnections },
      };
    }
    if (maxPerIp !== undefined && ip !== undefined) {
      const fromIp = this.#perIp.get(ip) ?? 0;
      if (fromIp >= maxPerIp) {
        return {
          limit: 'max-per-ip',
          detail: `refused: ${fromIp} connection${fromIp === 1 ? '' : 's'} open from ${ip}`,
          option: { name: 'maxPerIp', value: maxPerIp },
        };
      }
      this.#perIp.set(ip, fromIp + 1);
    }
    if (this.counts) this.#open += 1;
    return undefined;
  }

  /** release counts out a peer `admit` let in, with the same `ip`. */
  release(ip: string | undefined): void {
    this.#open -= 1;
    if (ip === undefined || this.#limits.maxPerIp === undefined) return;
    const left = (this.#perIp.get(ip) ?? 1) - 1;
    if (left <= 0) this.#perIp.delete(ip);
    else this.#perIp.set(ip, left);
  }
}
