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

// The directory, under the prefix P:
//   P broker:ID     heartbeat of broker ID, expiring after the lease unless refreshed
//   P brokers       set of the broker ids that may hold entries (live, or dead and not yet cleaned)
//   P nicks         hash: lower-case nick -> id of the broker holding it
//   P rooms         set of room names that may have members
//   P room:#name    hash: nick -> id of the broker holding that membership
// An entry whose broker has no heartbeat key does not count. Every check-and-set is one Lua
// script, so it is atomic. Scripts build the heartbeat and room keys from the prefix, which is
// fine on one Redis server (not on Redis Cluster, where every key must be declared).

/** PREFIX is the Lua prelude of the scripts that build keys: every script takes the prefix as ARGV[1]. */
const PREFIX = `
local prefix = ARGV[1]
`;

/** ALIVE tells, in Lua, whether broker `id` holds its lease. */
const ALIVE = `${PREFIX}
local function alive(id) return redis.call('EXISTS', prefix .. 'broker:' .. id) == 1 end
`;

/**
 * PURGE removes every entry of broker `id`, appending its memberships to `parts` (room, nick, ...).
 * It scans the whole directory, which is fine for a chat's thousands of entries and runs only
 * when a broker dies or closes; per-broker index sets would trade that for more bookkeeping.
 */
const PURGE = `
local function purge(nicksKey, roomsKey, id, parts)
  local nicks = redis.call('HGETALL', nicksKey)
  for i = 1, #nicks, 2 do
    if nicks[i + 1] == id then redis.call('HDEL', nicksKey, nicks[i]) end
  end
  for _, room in ipairs(redis.call('SMEMBERS', roomsKey)) do
    local key = prefix .. 'room:' .. room
    local members = redis.call('HGETALL', key)
    for i = 1, #members, 2 do
      if members[i + 1] == id then
        redis.call('HDEL', key, members[i])
        parts[#parts + 1] = room
        parts[#parts + 1] = members[i]
      end
    end
    if redis.call('HLEN', key) == 0 then redis.call('SREM', roomsKey, room) end
  end
end
`;

/**
 * SCRIPTS are the directory operations that must be atomic. Every script takes the prefix as
 * ARGV[1]; `keys` is how many KEYS come first.
 */
const SCRIPTS = {
  // KEYS: heartbeat, brokers. ARGV: prefix, id, lease. 1 when the id was not registered (a new
  // broker, or one that was taken for dead or whose Redis lost its data).
  dirRefresh: {
    keys: 2,
    lua: `
redis.call('SET', KEYS[1], '1', 'PX', ARGV[3])
return redis.call('SADD', KEYS[2], ARGV[2])`,
  },
  // KEYS: nicks. ARGV: prefix, nick (lower case), id. 1 when the nick was free, or held by a
  // broker without a lease, and is now this broker's.
  dirClaimNick: {
    keys: 1,
    lua: `${ALIVE}
local owner = redis.call('HGET', KEYS[1], ARGV[2])
if owner and alive(owner) then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
return 1`,
  },
  // KEYS: nicks. ARGV: prefix, nick (lower case), id. Frees the nick only if this broker holds it.
  dirReleaseNick: {
    keys: 1,
    lua: `
if redis.call('HGET', KEYS[1], ARGV[2]) == ARGV[3] then redis.call('HDEL', KEYS[1], ARGV[2]) end
return 0`,
  },
  // KEYS: nicks. ARGV: prefix, nick (lower case). 1 when a live broker holds the nick.
  dirHasNick: {
    keys: 1,
    lua: `${ALIVE}
local owner = redis.call('HGET', KEYS[1], ARGV[2])
if owner and alive(owner) then return 1 end
return 0`,
  },
  // KEYS: room, rooms. ARGV: prefix, nick, id, room name. Removes this broker's membership, and
  // the room from the list once it has no member.
  dirLeaveRoom: {
    keys: 2,
    lua: `
if redis.call('HGET', KEYS[1], ARGV[2]) == ARGV[3] then redis.call('HDEL', KEYS[1], ARGV[2]) end
if redis.call('HLEN', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[4]) end
return 0`,
  },
  // KEYS: room. ARGV: prefix. The nicks in the room held by live brokers.
  dirMembers: {
    keys: 1,
    lua: `${ALIVE}
local live, found = {}, {}
local members = redis.call('HGETALL', KEYS[1])
for i = 1, #members, 2 do
  local owner = members[i + 1]
  if live[owner] == nil then live[owner] = alive(owner) end
  if live[owner] then found[#found + 1] = members[i] end
end
return found`,
  },
  // KEYS: rooms. ARGV: prefix. Room, count of live members, room, count, ...
  dirRooms: {
    keys: 1,
    lua: `${ALIVE}
local live, found = {}, {}
for _, room in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local count = 0
  local members = redis.call('HVALS', prefix .. 'room:' .. room)
  for _, owner in ipairs(members) do
    if live[owner] == nil then live[owner] = alive(owner) end
    if live[owner] then count = count + 1 end
  end
  found[#found + 1] = room
  found[#found + 1] = count
end
return found`,
  },
  // KEYS: brokers, nicks, rooms. ARGV: prefix. Unregisters every broker without a lease and
  // removes its entries; returns their memberships (room, nick, ...). Being one script, it
  // cleans up after a dead broker exactly once, however many brokers run it.
  dirReap: {
    keys: 3,
    lua: `${ALIVE}${PURGE}
local parts = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if not alive(id) then
    redis.call('SREM', KEYS[1], id)
    purge(KEYS[2], KEYS[3], id, parts)
  end
end
return parts`,
  },
  // KEYS: brokers, nicks, rooms, heartbeat. ARGV: prefix, id. A clean exit: removes what is left
  // of this broker's entries, its heartbeat and its registration.
  dirRetire: {
    keys: 4,
    lua: `${PREFIX}${PURGE}
purge(KEYS[2], KEYS[3], ARGV[2], {})
redis.call('DEL', KEYS[4])
redis.call('SREM', KEYS[1], ARGV[2])
return 0`,
  },
  // KEYS: nicks, rooms. ARGV: prefix, id, count of nicks, nicks (lower case)..., then room, nick
  // pairs. Writes back this broker's entries after it was taken for dead, except those a live
  // broker took meanwhile; returns the memberships it wrote back (room, nick, ...).
  dirRestore: {
    keys: 2,
    lua: `${ALIVE}
local id = ARGV[2]
local function free(key, field)
  local owner = redis.call('HGET', key, field)
  return not owner or (owner ~= id and not alive(owner))
end
local nickCount = tonumber(ARGV[3])
for i = 4, 3 + nickCount do
  if free(KEYS[1], ARGV[i]) then redis.call('HSET', KEYS[1], ARGV[i], id) end
end
local restored = {}
for i = 4 + nickCount, #ARGV, 2 do
  local room, nick = ARGV[i], ARGV[i + 1]
  local key = prefix .. 'room:' .. room
  if free(key, nick) then
    redis.call('HSET', key, nick, id)
    redis.call('SADD', KEYS[2], room)
    restored[#restored + 1] = room
    restored[#restored + 1] = nick
  end
end
return restored`,
  },
} as const;

/** DirectoryScripts types the commands that `defineCommand` adds for SCRIPTS. */
type DirectoryScripts = {
  [name in keyof typeof SCRIPTS]: (...keysThenArgs: (string | number)[]) => Promise<unknown>;
};

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
