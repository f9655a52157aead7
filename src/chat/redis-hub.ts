/**
 * RedisHub lets several brokers, on any hosts, share one chat through Redis (one server, or a
 * Redis Cluster): events go over pub/sub (one channel), and the directory (nicknames, room
 * members) lives in Redis hashes that record which broker holds each entry. Users connected to
 * different brokers then see each other's messages, `/who` and `/list` count everyone, and a
 * nickname is unique across all brokers. The directory is leased: a broker that dies without
 * closing loses its users after the lease, and they are seen to leave. A broker that loses Redis
 * keeps serving its own users from what it holds, and writes it back when Redis returns.
 */
import { randomUUID } from 'node:crypto';
// ioredis is loaded when a hub connects, not with the library: it is a fifth of every command's start-up.
import type { Cluster, Redis } from 'ioredis';
import { ConnectionRefusedError, IoError, ProtocolError, SockkitError } from '../errors.js';
import type { ChatEvent, Hub, RoomInfo } from './hub.js';
import { type DirectoryScripts, SCRIPTS } from './redis-scripts.js';

/** RedisHubOptions tune a RedisHub. */
export interface RedisHubOptions {
  /**
   * Prefix of every key and channel, so several chats can share one Redis; not empty. Keys are
   * named `{PREFIX}name`: the braces make it a hash tag, so one Cluster node holds every key of
   * the directory. Default `sockkit:chat:`.
   */
  readonly prefix?: string | undefined;
  /**
   * How long to wait for Redis, in ms: at start, and for any one command later (a Redis that
   * stops answering for that long counts as unavailable). Default 5000.
   */
  readonly timeout?: number | undefined;
  /**
   * How long the users of a broker that died stay listed, in ms: the time-to-live of the
   * broker's heartbeat key, refreshed every third of it. At least MIN_LEASE. Default 15000.
   */
  readonly lease?: number | undefined;
  /**
   * True when `url` is one node of a Redis Cluster: the hub then uses ioredis' `Cluster` client,
   * which finds the other nodes. Default false (one Redis server).
   */
  readonly cluster?: boolean | undefined;
  /**
   * Called once when Redis becomes unavailable (with the reason), and once when it is back and
   * the directory holds this broker's users again.
   */
  readonly onAvailability?: ((change: RedisAvailability) => void) | undefined;
}

/** RedisAvailability is what `onAvailability` receives. */
export type RedisAvailability =
  | { readonly available: false; readonly reason: string }
  | {
      readonly available: true;
      /** This broker's nicks, which the directory holds again. */
      readonly nicks: number;
      /** Room memberships the directory had lost and holds again (announced to the other brokers). */
      readonly rejoined: number;
    };

/** MIN_LEASE is the shortest lease a RedisHub accepts, in ms. */
export const MIN_LEASE = 100;

/** LOST_REASON is the reason of the `part` events announcing the users of a broker that died. */
export const LOST_REASON = 'connection lost';

/**
 * MAX_PENDING_PUBLISHES bounds the events sent to Redis and not yet acknowledged. Past it Redis
 * is not keeping up (or not answering): the hub counts it as unavailable rather than queue more.
 */
export const MAX_PENDING_PUBLISHES = 1000;

type Client = Redis | Cluster;

/** IoRedis is what the hub takes of ioredis, once it is loaded: its two client classes. */
interface IoRedis {
  readonly Cluster: typeof Cluster;
  readonly Redis: typeof Redis;
}

/**
 * RedisHub is a Hub backed by Redis. Open it with `RedisHub.connect(url)`, where `url` is
 * `redis://host:port[/db]`, `rediss://…` or `unix:/path/to/redis.sock` (with `cluster: true`, a
 * `redis://` or `rediss://` URL of any one node). Events are published in order on one
 * connection and received on another (a subscribed connection can do nothing else). Each event
 * reaches this broker's own users directly, in publishing order, whether Redis is up or not;
 * from Redis, the hub takes only the other brokers' events.
 *
 * Each hub is a broker with a random `id` and a lease: its heartbeat key expires `lease` ms
 * after its last refresh, and the hub refreshes it every third of that. Entries of a broker
 * whose heartbeat expired do not count (its nicks are free, its members unlisted); on its own
 * heartbeat, each hub removes them and publishes a `part` event, reason LOST_REASON, for each
 * membership, so the users left behind see who went.
 *
 * While Redis is unavailable (a connection closed, or a command unanswered for `timeout` ms) the
 * hub answers from what this broker holds: its users keep talking to each other, claim nicks,
 * join rooms; nothing is queued for Redis. Once both connections are back, it makes the
 * directory hold exactly this broker's entries (writing back what Redis lost, removing what its
 * users gave up meanwhile), announces the memberships written back (`join`) and removed (`part`)
 * to the other brokers, and only then counts Redis as available. A nick someone else took
 * meanwhile stays theirs.
 */
export class RedisHub implements Hub {
  /** id names this broker in Redis: its heartbeat key is `{PREFIX}broker:ID`. Unique per connect. */
  readonly id: string = randomUUID();
  readonly #commands: Client;
  readonly #scripts: DirectoryScripts;
  readonly #events: Client;
  /** tag is `{PREFIX}`, the start of every key and of the channel. */
  readonly #tag: string;
  readonly #lease: number;
  readonly #onAvailability: ((change: RedisAvailability) => void) | undefined;
  /** What this broker holds: lower-case nicks, and room -> nicks. The directory's source of truth for it. */
  readonly #nicks = new Set<string>();
  readonly #memberships = new Map<string, Set<string>>();
  /** Counts changes to #nicks and #memberships, so a sync knows whether it wrote a stale picture. */
  #generation = 0;
  #handler: ((event: ChatEvent) => void) | undefined;
  #available = true;
  #syncing: Promise<void> | undefined;
  #pendingPublishes = 0;
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;
  #closed = false;

  private constructor(commands: Client, events: Client, prefix: string, options: RedisHubOptions) {
    this.#commands = commands;
    this.#events = events;
    this.#tag = `{${prefix}}`;
    this.#lease = options.lease ?? 15_000;
    this.#onAvailability = options.onAvailability;
    for (const [name, script] of Object.entries(SCRIPTS)) {
      commands.defineCommand(name, { lua: script.lua, numberOfKeys: script.keys });
    }
    this.#scripts = commands as unknown as DirectoryScripts;
  }

  /**
   * connect opens the two connections, registers the broker and starts its heartbeat, and
   * resolves once all that is done. Rejects with a SockkitError (`connect redis://…: connection
   * refused`) when Redis cannot be reached or holds the directory of an older sockkit under the
   * prefix, and with a RangeError for a lease under MIN_LEASE or an empty prefix.
   */
  static async connect(url: string, options: RedisHubOptions = {}): Promise<RedisHub> {
    const lease = options.lease ?? 15_000;
    if (!(lease >= MIN_LEASE)) throw new RangeError(`lease must be at least ${MIN_LEASE} ms (got ${lease})`);
    const prefix = options.prefix ?? 'sockkit:chat:';
    // `{}` is no hash tag: Redis would hash each whole key, and scatter the directory.
    if (prefix === '') throw new RangeError('prefix must not be empty');
    if (options.cluster && !/^rediss?:/.test(url)) {
      throw new RangeError(`a Redis Cluster node is a redis:// or rediss:// URL (got ${url})`);
    }
    // Until both connections are up, a failure is final (the CLI reports it and exits); after
    // that, ioredis reconnects by itself with a growing delay, and its errors are not thrown.
    const state = { started: false, firstError: undefined as NodeJS.ErrnoException | undefined };
    const ioredis = await import('ioredis');
    const commands = openClient(ioredis, url, options, state);
    const events = openClient(ioredis, url, options, state);
    try {
      await Promise.all([commands.connect(), events.connect()]);
    } catch (err) {
      commands.disconnect();
      events.disconnect();
      const cause = state.firstError ?? (err as NodeJS.ErrnoException);
      throw new ConnectionRefusedError('connect', url, `redis: ${reasonOf(cause)}`, {
        cause,
      });
    }
    state.started = true;
    const hub = new RedisHub(commands, events, prefix, { ...options, lease });
    try {
      await hub.#register(url, prefix);
    } catch (err) {
      commands.disconnect();
      events.disconnect();
      if (err instanceof SockkitError) throw err;
      throw new IoError('connect', url, `redis: ${reasonOf(err)}`, { cause: err });
    }
    hub.#watch();
    hub.#schedule();
    return hub;
  }

  /** available tells whether Redis is reachable and holds this broker's entries. */
  get available(): boolean {
    return this.#available;
  }

  /**
   * publish delivers `event` to this broker's handler at once, then sends it to the other
   * brokers if Redis is available (without waiting for Redis: it never rejects).
   */
  async publish(event: ChatEvent): Promise<void> {
    this.#handler?.(event);
    this.#broadcast(event);
  }

  async subscribe(handler: (event: ChatEvent) => void): Promise<void> {
    this.#handler = handler;
    const channel = this.#key('events');
    this.#events.on('message', (from: string, message: string) => {
      if (from !== channel) return;
      let event: ChatEvent & { broker?: unknown };
      try {
        event = JSON.parse(message) as ChatEvent & { broker?: unknown };
      } catch {
        return; // not ours: another program on the same channel
      }
      if (typeof event !== 'object' || event === null || event.broker === this.id) return;
      const { broker: _, ...rest } = event;
      try {
        handler(rest as ChatEvent);
      } catch {
        // A malformed event from another publisher must not take this broker down.
      }
    });
    await this.#events.subscribe(channel);
  }

  async claimNick(nick: string): Promise<boolean> {
    const key = nick.toLowerCase();
    if (this.#nicks.has(key)) return false;
    const claimed = await this.#ask(
      async () => (await this.#scripts.dirClaimNick(this.#key('nicks'), this.#tag, key, this.id)) === 1,
      () => true, // without Redis, only this broker's nicks are known
    );
    if (claimed && !this.#nicks.has(key)) {
      this.#nicks.add(key);
      this.#generation += 1;
    }
    return claimed;
  }

  async releaseNick(nick: string): Promise<void> {
    const key = nick.toLowerCase();
    this.#nicks.delete(key);
    this.#generation += 1;
    await this.#write(() => this.#scripts.dirReleaseNick(this.#key('nicks'), this.#tag, key, this.id));
  }

  async hasNick(nick: string): Promise<boolean> {
    const key = nick.toLowerCase();
    if (this.#nicks.has(key)) return true;
    return this.#ask(
      async () => (await this.#scripts.dirHasNick(this.#key('nicks'), this.#tag, key)) === 1,
      () => false,
    );
  }

  async enterRoom(room: string, nick: string): Promise<void> {
    const members = this.#memberships.get(room) ?? new Set<string>();
    this.#memberships.set(room, members);
    members.add(nick);
    this.#generation += 1;
    await this.#write(() =>
      this.#commands
        .multi()
        .hset(this.#key(`room:${room}`), nick, this.id)
        .sadd(this.#key('rooms'), room)
        .exec(),
    );
  }

  async leaveRoom(room: string, nick: string): Promise<void> {
    const members = this.#memberships.get(room);
    members?.delete(nick);
    if (members?.size === 0) this.#memberships.delete(room);
    this.#generation += 1;
    await this.#write(() =>
      this.#scripts.dirLeaveRoom(
        this.#key(`room:${room}`),
        this.#key('rooms'),
        this.#tag,
        nick,
        this.id,
        room,
      ),
    );
  }

  async members(room: string): Promise<string[]> {
    const found = await this.#ask(
      async () => (await this.#scripts.dirMembers(this.#key(`room:${room}`), this.#tag)) as string[],
      () => [...(this.#memberships.get(room) ?? [])],
    );
    return found.sort();
  }

  async rooms(): Promise<RoomInfo[]> {
    const rooms = await this.#ask(
      async () => {
        const found = (await this.#scripts.dirRooms(this.#key('rooms'), this.#tag)) as (string | number)[];
        const listed: RoomInfo[] = [];
        for (let i = 0; i + 1 < found.length; i += 2) {
          const members = Number(found[i + 1]);
          if (members > 0) listed.push({ room: String(found[i]), members });
        }
        return listed;
      },
      () => [...this.#memberships].map(([room, nicks]) => ({ room, members: nicks.size })),
    );
    return rooms.sort((a, b) => a.room.localeCompare(b.room));
  }

  /** close stops the heartbeat and removes the broker from Redis: its entries, heartbeat key and id. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#handler = undefined;
    clearTimeout(this.#timer);
    await this.#beating;
    await this.#syncing;
    this.#events.disconnect();
    await this.#scripts
      .dirRetire(
        this.#key('brokers'),
        this.#key('nicks'),
        this.#key('rooms'),
        this.#key(`broker:${this.id}`),
        this.#tag,
        this.id,
      )
      .catch(() => undefined);
    await this.#commands.quit().catch(() => undefined);
    this.#commands.disconnect();
  }

  /**
   * register checks that no older sockkit uses the prefix, then takes the lease. Older versions
   * named keys `PREFIXname`, without the hash tag: brokers of both would split the chat silently.
   */
  async #register(url: string, prefix: string): Promise<void> {
    const refuse = (what: string): never => {
      throw new ProtocolError(
        'connect',
        url,
        `redis: ${what} holds an older sockkit's directory; stop the old brokers and delete the keys under ${prefix}`,
      );
    };
    // Before leases, nicknames were a set; before hash tags, live brokers had a heartbeat key.
    if ((await this.#commands.type(`${prefix}nicks`)) === 'set') refuse(`${prefix}nicks`);
    for (const id of await this.#commands.smembers(`${prefix}brokers`)) {
      if ((await this.#commands.exists(`${prefix}broker:${id}`)) === 1) refuse(`${prefix}brokers`);
    }
    await this.#refresh();
  }

  #key(name: string): string {
    return this.#tag + name;
  }

  /** watch follows both connections: a closed one makes Redis unavailable; once both are ready, the hub syncs. */
  #watch(): void {
    for (const client of [this.#commands, this.#events]) {
      client.on('close', () => this.#unavailable('connection lost'));
      client.on('ready', () => void this.#sync());
    }
  }

  /** unavailable switches to this broker's own entries, and says so once. */
  #unavailable(reason: string): void {
    if (!this.#available || this.#closed) return;
    this.#available = false;
    this.#onAvailability?.({ available: false, reason });
  }

  /**
   * ask runs a directory query on Redis while it is available, and `local` otherwise (or when
   * the query fails, which makes Redis unavailable until the next sync).
   */
  async #ask<T>(remote: () => Promise<T>, local: () => T): Promise<T> {
    if (!this.#available) return local();
    try {
      return await remote();
    } catch (err) {
      this.#failed(err);
      return local();
    }
  }

  /** write records a change in Redis while it is available; otherwise the next sync writes it. */
  async #write(remote: () => Promise<unknown>): Promise<void> {
    if (!this.#available) return;
    try {
      await remote();
    } catch (err) {
      this.#failed(err);
    }
  }

  /** broadcast sends `event` to the other brokers, tagged with this broker's id; never rejects. */
  #broadcast(event: ChatEvent): void {
    if (!this.#available || this.#closed) return;
    if (this.#pendingPublishes >= MAX_PENDING_PUBLISHES) {
      this.#unavailable(`not answering (${MAX_PENDING_PUBLISHES} events unacknowledged)`);
      return;
    }
    this.#pendingPublishes += 1;
    this.#commands
      .publish(this.#key('events'), JSON.stringify({ ...event, broker: this.id }))
      .catch((err: unknown) => this.#failed(err))
      .finally(() => {
        this.#pendingPublishes -= 1;
      });
  }

  /** failed handles a command that failed: unless the hub is closing, Redis counts as unavailable. */
  #failed(err: unknown): void {
    this.#unavailable(reasonOf(err));
  }

  /**
   * sync makes Redis hold this broker's entries after it was unavailable (or the broker was
   * taken for dead), announces the changes to the other brokers, and marks Redis available.
   * One at a time; on failure Redis stays unavailable and the next heartbeat tries again.
   */
  #sync(force = false): Promise<void> {
    if (this.#closed || (this.#available && !force) || !ready(this.#commands) || !ready(this.#events)) {
      return Promise.resolve();
    }
    this.#syncing ??= this.#syncOnce().finally(() => {
      this.#syncing = undefined;
    });
    return this.#syncing;
  }

  async #syncOnce(): Promise<void> {
    let nicks = 0;
    let memberships = 0;
    // Users come and go while the script runs: write again until it saw the current picture.
    for (let attempt = 0; attempt < 5; attempt++) {
      const generation = this.#generation;
      let written: ReturnType<typeof readSync>;
      try {
        written = readSync(await this.#runSync());
      } catch (err) {
        this.#failed(err);
        return;
      }
      if (this.#closed) return;
      for (const [room, nick] of written.removed)
        this.#broadcastNow({ kind: 'part', room, nick, reason: LOST_REASON });
      for (const [room, nick] of written.added) this.#broadcastNow({ kind: 'join', room, nick });
      memberships += written.added.length;
      nicks = this.#nicks.size;
      if (generation === this.#generation) {
        const wasAvailable = this.#available;
        this.#available = true;
        if (!wasAvailable) this.#onAvailability?.({ available: true, nicks, rejoined: memberships });
        return;
      }
    }
  }

  /** runSync runs dirSync with everything this broker holds now. */
  #runSync(): Promise<unknown> {
    const memberships = [...this.#memberships].flatMap(([room, members]) =>
      [...members].flatMap((nick) => [room, nick]),
    );
    return this.#scripts.dirSync(
      this.#key(`broker:${this.id}`),
      this.#key('brokers'),
      this.#key('nicks'),
      this.#key('rooms'),
      this.#tag,
      this.id,
      this.#lease,
      this.#nicks.size,
      ...this.#nicks,
      ...memberships,
    );
  }

  /** broadcastNow sends an event of the sync, which runs before the hub counts Redis as available. */
  #broadcastNow(event: ChatEvent): void {
    this.#commands
      .publish(this.#key('events'), JSON.stringify({ ...event, broker: this.id }))
      .catch((err: unknown) => this.#failed(err));
  }

  /** schedule runs the next heartbeat a third of the lease from now, without keeping the process alive. */
  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#beating = this.#beat().finally(() => this.#schedule());
    }, this.#lease / 3);
    this.#timer.unref();
  }

  /** beat renews the lease (or syncs, if Redis was unavailable), then cleans up after dead brokers. Never rejects. */
  async #beat(): Promise<void> {
    if (!this.#available) return this.#sync();
    try {
      await this.#refresh();
      await this.#reap();
    } catch (err) {
      // If this lasts past the lease, other brokers take this one for dead; the sync writes it back.
      this.#failed(err);
    }
  }

  /** refresh renews the heartbeat key; if this broker was unregistered meanwhile, it syncs its entries. */
  async #refresh(): Promise<void> {
    const registered = await this.#scripts.dirRefresh(
      this.#key(`broker:${this.id}`),
      this.#key('brokers'),
      this.#tag,
      this.id,
      this.#lease,
    );
    if (registered === 1 && (this.#nicks.size > 0 || this.#memberships.size > 0)) await this.#sync(true);
  }

  /** reap removes the entries of dead brokers and announces each of their users' departures. */
  async #reap(): Promise<void> {
    const parts = (await this.#scripts.dirReap(
      this.#key('brokers'),
      this.#key('nicks'),
      this.#key('rooms'),
      this.#tag,
    )) as string[];
    for (const [room, nick] of pairsOf(parts))
      await this.publish({ kind: 'part', room, nick, reason: LOST_REASON });
  }
}

/** openClient creates one lazy connection (or Cluster client) that never queues commands while Redis is away. */
function openClient(
  { Cluster, Redis }: IoRedis,
  url: string,
  options: RedisHubOptions,
  state: { started: boolean; firstError: NodeJS.ErrnoException | undefined },
): Client {
  const timeout = options.timeout ?? 5000;
  // While Redis is away, commands fail at once (enableOfflineQueue: false) and those in flight
  // when it went fail with it (maxRetriesPerRequest: 0): the hub serves its users without Redis,
  // so nothing is queued for Redis, and nothing grows while it is away.
  const settings = {
    lazyConnect: true,
    connectTimeout: timeout,
    commandTimeout: timeout,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
  };
  const retry = (times: number): number | null => (state.started ? Math.min(times * 100, 1000) : null);
  let client: Client;
  if (options.cluster) {
    const node = new URL(url);
    client = new Cluster([{ host: node.hostname.replace(/^\[|\]$/g, ''), port: Number(node.port || 6379) }], {
      lazyConnect: true,
      enableOfflineQueue: false,
      clusterRetryStrategy: retry,
      redisOptions: {
        connectTimeout: timeout,
        commandTimeout: timeout,
        maxRetriesPerRequest: 0,
        username: decodeURIComponent(node.username) || undefined,
        password: decodeURIComponent(node.password) || undefined,
        tls: node.protocol === 'rediss:' ? {} : undefined,
      },
    });
  } else if (url.startsWith('unix:')) {
    client = new Redis({ ...settings, retryStrategy: retry, path: url.replace(/^unix:(\/\/)?/, '') });
  } else {
    client = new Redis(url, { ...settings, retryStrategy: retry });
  }
  client.on('error', (err: NodeJS.ErrnoException) => {
    state.firstError ??= err;
  });
  return client;
}

/** ready tells whether a client can take commands now. */
function ready(client: Client): boolean {
  return client.status === 'ready';
}

/** readSync reads dirSync's reply: the memberships it removed, and those it wrote back. */
function readSync(reply: unknown): { removed: [string, string][]; added: [string, string][] } {
  const [count, ...pairs] = reply as [number, ...string[]];
  const all = pairsOf(pairs);
  return { removed: all.slice(0, count), added: all.slice(count) };
}

/** pairsOf reads a flat `[a, b, a, b, ...]` reply as pairs. */
function pairsOf(flat: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i] as string, flat[i + 1] as string]);
  return pairs;
}

/** reasonOf names why a Redis operation failed, in words. */
function reasonOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOENT') return 'no such socket file';
  if (code === 'ECONNRESET') return 'connection reset';
  const message = err instanceof Error ? err.message : String(err);
  if (/timed out/i.test(message)) return 'not answering';
  if (/Connection is closed|Stream isn't writeable|isn't ready/i.test(message)) return 'connection lost';
  return message;
}
