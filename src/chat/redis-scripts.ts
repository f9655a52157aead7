/**
 * The Redis directory's scripts: every check-and-set of RedisHub's leased directory, each one Lua
 * script so that it is atomic. RedisHub registers them with ioredis' `defineCommand`.
 */

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
export const SCRIPTS = {
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
export type DirectoryScripts = {
  [name in keyof typeof SCRIPTS]: (...keysThenArgs: (string | number)[]) => Promise<unknown>;
};
