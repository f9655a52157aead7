/**
 * The Redis directory's scripts: every check-and-set of RedisHub's leased directory, each one Lua
 * script so that it is atomic. RedisHub registers them with ioredis' `defineCommand`.
 */

// The directory, under the hash tag T = {PREFIX} (so that every key lives in one hash slot, and one
// Redis Cluster node holds the whole directory):
//   T broker:ID     heartbeat of broker ID, expiring after the lease unless refreshed
//   T brokers       set of the broker ids that may hold entries (live, or dead and not yet cleaned)
//   T nicks         hash: lower-case nick -> id of the broker holding it
//   T rooms         set of room names that may have members
//   T room:#name    hash: nick -> id of the broker holding that membership
// An entry whose broker has no heartbeat key does not count. Every check-and-set is one Lua
// script, so it is atomic. Scripts build the heartbeat and room keys from the tag (ARGV[1]); these
// keys are not declared in KEYS, which Redis Cluster allows because they hash to the slot of the
// declared ones (the tag decides the slot), so the script runs on the node that holds them all.

/** PREFIX is the Lua prelude of the scripts that build keys: every script takes the tag `{PREFIX}` as ARGV[1]. */
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
 * SCRIPTS are the directory operations that must be atomic. Every script takes the tag `{PREFIX}`
 * as ARGV[1]; `keys` is how many KEYS come first.
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
  // KEYS: heartbeat, brokers, nicks, rooms. ARGV: prefix, id, lease, count of nicks, nicks (lower
  // case)..., then room, nick pairs: everything this broker holds now. Takes the lease and makes
  // the directory hold exactly that for this broker: removes its entries that are not in the lists
  // (users who left while it could not reach Redis), and writes back those missing (it was taken
  // for dead, or Redis lost its data), except where a live broker took them meanwhile. Returns
  // the count of removed memberships, then the removed (room, nick) pairs, then the written ones.
  dirSync: {
    keys: 4,
    lua: `${ALIVE}
local id = ARGV[2]
redis.call('SET', KEYS[1], '1', 'PX', ARGV[3])
redis.call('SADD', KEYS[2], id)
local nickCount = tonumber(ARGV[4])
local wantNicks, wantRooms = {}, {}
for i = 5, 4 + nickCount do wantNicks[ARGV[i]] = true end
for i = 5 + nickCount, #ARGV, 2 do wantRooms[ARGV[i] .. '\\n' .. ARGV[i + 1]] = true end
local nicks = redis.call('HGETALL', KEYS[3])
for i = 1, #nicks, 2 do
  if nicks[i + 1] == id and not wantNicks[nicks[i]] then redis.call('HDEL', KEYS[3], nicks[i]) end
end
local removed = {}
for _, room in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  local key = prefix .. 'room:' .. room
  local members = redis.call('HGETALL', key)
  for i = 1, #members, 2 do
    if members[i + 1] == id and not wantRooms[room .. '\\n' .. members[i]] then
      redis.call('HDEL', key, members[i])
      removed[#removed + 1] = room
      removed[#removed + 1] = members[i]
    end
  end
  if redis.call('HLEN', key) == 0 then redis.call('SREM', KEYS[4], room) end
end
local function free(key, field)
  local owner = redis.call('HGET', key, field)
  return not owner or (owner ~= id and not alive(owner))
end
for i = 5, 4 + nickCount do
  if free(KEYS[3], ARGV[i]) then redis.call('HSET', KEYS[3], ARGV[i], id) end
end
local result = { #removed / 2 }
for _, v in ipairs(removed) do result[#result + 1] = v end
for i = 5 + nickCount, #ARGV, 2 do
  local room, nick = ARGV[i], ARGV[i + 1]
  local key = prefix .. 'room:' .. room
  if free(key, nick) then
    redis.call('HSET', key, nick, id)
    redis.call('SADD', KEYS[4], room)
    result[#result + 1] = room
    result[#result + 1] = nick
  end
end
return result`,
  },
} as const;

/** DirectoryScripts types the commands that `defineCommand` adds for SCRIPTS. */
export type DirectoryScripts = {
  [name in keyof typeof SCRIPTS]: (...keysThenArgs: (string | number)[]) => Promise<unknown>;
};
