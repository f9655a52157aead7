/**
 * RedisHub lets several brokers, on any hosts, share one chat through Redis: events go over
 * pub/sub (one channel), and the directory (nicknames, room members) lives in Redis sets. Users
 * connected to different brokers then see each other's messages, `/who` and `/list` count
 * everyone, and a nickname is unique across all brokers.
 */
import { Redis } from 'ioredis';
import { SockkitError } from '../errors.js';
import type { ChatEvent, Hub, RoomInfo } from './hub.js';

/** RedisHubOptions tune a RedisHub. */
export interface RedisHubOptions {
  /** Prefix of every key and channel, so several chats can share one Redis. Default `sockkit:chat:`. */
  readonly prefix?: string | undefined;
  /** How long to wait for Redis at start, in ms. Default 5000. */
  readonly timeout?: number | undefined;
}

/**
 * RedisHub is a Hub backed by Redis. Open it with `RedisHub.connect(url)`, where `url` is
 * `redis://host:port[/db]`, `rediss://…` or `unix:/path/to/redis.sock`. Events are published in
 * order on one connection and received on another (a subscribed connection can do nothing
 * else). A broker that dies without closing leaves its users' names in Redis until they are
 * released by hand (`DEL` the prefix's keys): the directory is not leased.
 */
export class RedisHub implements Hub {
  readonly #commands: Redis;
  readonly #events: Redis;
  readonly #prefix: string;

  private constructor(commands: Redis, events: Redis, prefix: string) {
    this.#commands = commands;
    this.#events = events;
    this.#prefix = prefix;
  }

  /**
   * connect opens the two connections and resolves once both are ready. Rejects with a
   * SockkitError (`connect redis://…: connection refused`) when Redis cannot be reached.
   */
  static async connect(url: string, options: RedisHubOptions = {}): Promise<RedisHub> {
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
    return new RedisHub(commands, events, options.prefix ?? 'sockkit:chat:');
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
    return (await this.#commands.sadd(`${this.#prefix}nicks`, nick.toLowerCase())) === 1;
  }

  async releaseNick(nick: string): Promise<void> {
    await this.#commands.srem(`${this.#prefix}nicks`, nick.toLowerCase());
  }

  async hasNick(nick: string): Promise<boolean> {
    return (await this.#commands.sismember(`${this.#prefix}nicks`, nick.toLowerCase())) === 1;
  }

  async enterRoom(room: string, nick: string): Promise<void> {
    await this.#commands
      .multi()
      .sadd(`${this.#prefix}room:${room}`, nick)
      .sadd(`${this.#prefix}rooms`, room)
      .exec();
  }

  async leaveRoom(room: string, nick: string): Promise<void> {
    await this.#commands.srem(`${this.#prefix}room:${room}`, nick);
    // A room is listed while it has members. Two brokers may race here; the worst case is an
    // empty room listed until someone joins and leaves it again.
    if ((await this.#commands.scard(`${this.#prefix}room:${room}`)) === 0) {
      await this.#commands.srem(`${this.#prefix}rooms`, room);
    }
  }

  async members(room: string): Promise<string[]> {
    return (await this.#commands.smembers(`${this.#prefix}room:${room}`)).sort();
  }

  async rooms(): Promise<RoomInfo[]> {
    const names = (await this.#commands.smembers(`${this.#prefix}rooms`)).sort();
    const counts = await Promise.all(
      names.map((room) => this.#commands.scard(`${this.#prefix}room:${room}`)),
    );
    return names.map((room, i) => ({ room, members: counts[i] ?? 0 })).filter((r) => r.members > 0);
  }

  async close(): Promise<void> {
    this.#events.disconnect();
    await this.#commands.quit().catch(() => undefined);
    this.#commands.disconnect();
  }
}
