/**
 * RedisHub lets several brokers, on any hosts, share one chat through Redis: events go over
 * pub/sub (one channel), and the directory (nicknames, room members) lives in Redis hashes that
 * record which broker holds each entry. Users connected to different brokers then see each
 * other's messages, `/who` and `/list` count everyone, and a nickname is unique across all
 * brokers. The directory is leased: a broker that dies without closing loses its users after
 * the lease, and they are seen to leave.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { SockkitError } from '../errors.js';
import type { ChatEvent, Hub, RoomInfo } from './hub.js';
import { type DirectoryScripts, SCRIPTS } from './redis-scripts.js';

/** RedisHubOptions tune a RedisHub. */
export interface RedisHubOptions {
  /** Prefix of every key and channel, so several chats can share one Redis. Default `sockkit:chat:`. */
  readonly prefix?: string | undefined;
  /** How long to wait for Redis at start, in ms. Default 5000. */
  readonly timeout?: number | undefined;
  /**
   * How long the users of a broker that died stay listed, in ms: the time-to-live of the
   * broker's heartbeat key, refreshed every third of it. At least MIN_LEASE. Default 15000.
   */
  readonly lease?: number | undefined;
}

/** MIN_LEASE is the shortest lease a RedisHub accepts, in ms. */
export const MIN_LEASE = 100;

/** LOST_REASON is the reason of the `part` events announcing the users of a broker that died. */
export const LOST_REASON = 'connection lost';

/**
 * RedisHub is a Hub backed by Redis. Open it with `RedisHub.connect(url)`, where `url` is
 * `redis://host:port[/db]`, `rediss://…` or `unix:/path/to/redis.sock`. Events are published in
 * order on one connection and received on another (a subscribed connection can do nothing
 * else).
 *
 * Each hub is a broker with a random `id` and a lease: its heartbeat key expires `lease` ms
 * after its last refresh, and the hub refreshes it every third of that. Entries of a broker
 * whose heartbeat expired do not count (its nicks are free, its members unlisted); on its own
 * heartbeat, each hub removes them and publishes a `part` event, reason LOST_REASON, for each
 * membership, so the users left behind see who went. A hub that finds it was taken for dead
 * (it was cut off from Redis past its lease, or Redis lost its data) writes its entries back and
 * publishes a `join` for each membership it restores; a nick someone else took meanwhile stays
 * theirs.
 */
export class RedisHub implements Hub {
  /** id names this broker in Redis: its heartbeat key is `PREFIXbroker:ID`. Unique per connect. */
  readonly id: string = randomUUID();
  readonly #commands: Redis;
  readonly #scripts: DirectoryScripts;
  readonly #events: Redis;
  readonly #prefix: string;
  readonly #lease: number;
  /** What this broker holds, to write back if it is taken for dead: lower-case nicks, and room -> nicks. */
  readonly #nicks = new Set<string>();
  readonly #memberships = new Map<string, Set<string>>();
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;
  #closed = false;

  private constructor(commands: Redis, events: Redis, prefix: string, lease: number) {
    this.#commands = commands;
    this.#events = events;
    this.#prefix = prefix;
    this.#lease = lease;
    for (const [name, script] of Object.entries(SCRIPTS)) {
      commands.defineCommand(name, { lua: script.lua, numberOfKeys: script.keys });
    }
    this.#scripts = commands as unknown as DirectoryScripts;
  }

  /**
   * connect opens the two connections, registers the broker and starts its heartbeat, and
   * resolves once all that is done. Rejects with a SockkitError (`connect redis://…: connection
   * refused`) when Redis cannot be reached or holds an older sockkit's unleased directory under
   * the prefix, and with a RangeError for a lease under MIN_LEASE.
   */
  static async connect(url: string, options: RedisHubOptions = {}): Promise<RedisHub> {
    const lease = options.lease ?? 15_000;
    if (!(lease >= MIN_LEASE)) throw new RangeError(`lease must be at least ${MIN_LEASE} ms (got ${lease})`);
    const prefix = options.prefix ?? 'sockkit:chat:';
    // Until both connections are up, a failure is final (the CLI reports it and exits); after
    // that, ioredis reconnects by itself with a growing delay, and its errors are not thrown.
    let started = false;
    let firstError: NodeJS.ErrnoException | undefined;
    const open = (): Redis => {
      const settings = {
        lazyConnect: true,
        connectTimeout: options.timeout ?? 5000,
        maxRetriesPerRequest: 3,
        retryStrategy: (times: number) => (started ? Math.min(times * 200, 2000) : null),
      };
      const redis = url.startsWith('unix:')
        ? new Redis({ ...settings, path: url.replace(/^unix:(\/\/)?/, '') })
        : new Redis(url, settings);
      redis.on('error', (err: NodeJS.ErrnoException) => {
        firstError ??= err;
      });
      return redis;
    };
    const commands = open();
    const events = open();
    try {
      await Promise.all([commands.connect(), events.connect()]);
    } catch (err) {
      commands.disconnect();
      events.disconnect();
      const cause = firstError ?? (err as NodeJS.ErrnoException);
      const reason =
        cause.code === 'ECONNREFUSED'
          ? 'connection refused'
          : cause.code === 'ENOENT'
            ? 'no such socket file'
            : (cause.message ?? String(err));
      throw new SockkitError('ERR_CONNECTION_REFUSED', 'connect', url, `redis: ${reason}`, { cause });
    }
    started = true;
    const hub = new RedisHub(commands, events, prefix, lease);
    try {
      await hub.#register(url);
    } catch (err) {
      commands.disconnect();
      events.disconnect();
      if (err instanceof SockkitError) throw err;
      const reason = err instanceof Error ? err.message : String(err);
      throw new SockkitError('ERR_IO', 'connect', url, `redis: ${reason}`, { cause: err });
    }
    hub.#schedule();
    return hub;
  }

  async publish(event: ChatEvent): Promise<void> {
    await this.#commands.publish(`${this.#prefix}events`, JSON.stringify(event));
  }

  async subscribe(handler: (event: ChatEvent) => void): Promise<void> {
    const channel = `${this.#prefix}events`;
    this.#events.on('message', (from: string, message: string) => {
      if (from !== channel) return;
      let event: ChatEvent;
      try {
        event = JSON.parse(message) as ChatEvent;
      } catch {
        return; // not ours: another program on the same channel
      }
      try {
        handler(event);
      } catch {
        // A malformed event from another publisher must not take this broker down.
      }
    });
    await this.#events.subscribe(channel);
  }

  async claimNick(nick: string): Promise<boolean> {
    const key = nick.toLowerCase();
    const claimed = (await this.#scripts.dirClaimNick(this.#key('nicks'), this.#prefix, key, this.id)) === 1;
    if (claimed) this.#nicks.add(key);
    return claimed;
  }

  async releaseNick(nick: string): Promise<void> {
    const key = nick.toLowerCase();
    this.#nicks.delete(key);
    await this.#scripts.dirReleaseNick(this.#key('nicks'), this.#prefix, key, this.id);
  }

  async hasNick(nick: string): Promise<boolean> {
    return (await this.#scripts.dirHasNick(this.#key('nicks'), this.#prefix, nick.toLowerCase())) === 1;
  }

  async enterRoom(room: string, nick: string): Promise<void> {
    const members = this.#memberships.get(room) ?? new Set<string>();
    this.#memberships.set(room, members);
    members.add(nick);
    await this.#commands
      .multi()
      .hset(this.#key(`room:${room}`), nick, this.id)
      .sadd(this.#key('rooms'), room)
      .exec();
  }

  async leaveRoom(room: string, nick: string): Promise<void> {
    const members = this.#memberships.get(room);
    members?.delete(nick);
    if (members?.size === 0) this.#memberships.delete(room);
    await this.#scripts.dirLeaveRoom(
      this.#key(`room:${room}`),
      this.#key('rooms'),
      this.#prefix,
      nick,
      this.id,
      room,
    );
  }

  async members(room: string): Promise<string[]> {
    return ((await this.#scripts.dirMembers(this.#key(`room:${room}`), this.#prefix)) as string[]).sort();
  }

  async rooms(): Promise<RoomInfo[]> {
    const found = (await this.#scripts.dirRooms(this.#key('rooms'), this.#prefix)) as (string | number)[];
    const rooms: RoomInfo[] = [];
    for (let i = 0; i + 1 < found.length; i += 2) {
      const members = Number(found[i + 1]);
      if (members > 0) rooms.push({ room: String(found[i]), members });
    }
    return rooms.sort((a, b) => a.room.localeCompare(b.room));
  }

  /** close stops the heartbeat and removes the broker from Redis: its entries, heartbeat key and id. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#beating;
    this.#events.disconnect();
    await this.#scripts
      .dirRetire(
        this.#key('brokers'),
        this.#key('nicks'),
        this.#key('rooms'),
        this.#key(`broker:${this.id}`),
        this.#prefix,
        this.id,
      )
      .catch(() => undefined);
    await this.#commands.quit().catch(() => undefined);
    this.#commands.disconnect();
  }

  /** register checks the directory's layout, then takes the lease. */
  async #register(url: string): Promise<void> {
    // Before leases, nicknames were a set: a broker of this version would fail on every command.
    if ((await this.#commands.type(this.#key('nicks'))) === 'set') {
      throw new SockkitError(
        'ERR_PROTOCOL',
        'connect',
        url,
        `redis: ${this.#key('nicks')} holds an older sockkit's directory; ` +
          `stop the old brokers and delete the keys under ${this.#prefix}`,
      );
    }
    await this.#refresh();
  }

  #key(name: string): string {
    return this.#prefix + name;
  }

  /** schedule runs the next heartbeat a third of the lease from now, without keeping the process alive. */
  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#beating = this.#beat().finally(() => this.#schedule());
    }, this.#lease / 3);
    this.#timer.unref();
  }

  /** beat renews the lease, then cleans up after brokers whose lease ran out. Never rejects. */
  async #beat(): Promise<void> {
    try {
      await this.#refresh();
      await this.#reap();
    } catch {
      // Redis is unreachable: ioredis reconnects, and the next beat tries again. If this lasts
      // past the lease, other brokers take this one for dead, and #refresh writes it back.
    }
  }

  /** refresh renews the heartbeat key; if this broker was unregistered meanwhile, it restores its entries. */
  async #refresh(): Promise<void> {
    const registered = await this.#scripts.dirRefresh(
      this.#key(`broker:${this.id}`),
      this.#key('brokers'),
      this.#prefix,
      this.id,
      this.#lease,
    );
    if (registered === 1 && (this.#nicks.size > 0 || this.#memberships.size > 0)) await this.#restore();
  }

  /** reap removes the entries of dead brokers and announces each of their users' departures. */
  async #reap(): Promise<void> {
    const parts = (await this.#scripts.dirReap(
      this.#key('brokers'),
      this.#key('nicks'),
      this.#key('rooms'),
      this.#prefix,
    )) as string[];
    for (const [room, nick] of pairsOf(parts)) {
      await this.publish({ kind: 'part', room, nick, reason: LOST_REASON });
    }
  }

  /** restore writes back this broker's entries after it was taken for dead, and announces the memberships. */
  async #restore(): Promise<void> {
    const memberships = [...this.#memberships].flatMap(([room, nicks]) =>
      [...nicks].flatMap((n) => [room, n]),
    );
    const restored = (await this.#scripts.dirRestore(
      this.#key('nicks'),
      this.#key('rooms'),
      this.#prefix,
      this.id,
      this.#nicks.size,
      ...this.#nicks,
      ...memberships,
    )) as string[];
    for (const [room, nick] of pairsOf(restored)) await this.publish({ kind: 'join', room, nick });
  }
}

/** pairsOf reads a flat `[a, b, a, b, ...]` reply as pairs. */
function pairsOf(flat: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i] as string, flat[i + 1] as string]);
  return pairs;
}
