/*
 * redis_scripts.c - Lua source of the batch and claim scripts (see redis_scripts.h).
 */
#include "redis_scripts.h"

const char redis_flush_script[] =
	"#!lua\n"
	"local owners, offsets = KEYS[1], KEYS[2]\n"
	"local function check(...)\n"
	"  local r = redis.pcall(...)\n"
	"  if type(r) == 'table' and r.err then error({err = r.err}) end\n"
	"  return r\n"
	"end\n"
	/* Section starts: partitions, ids, HLLs, counts. */
	"local np = tonumber(ARGV[1])\n"
	"local d_at = 2 + 4 * np\n"
	"local h_at = d_at + 1\n"
	"for _ = 1, tonumber(ARGV[d_at]) do h_at = h_at + 3 + tonumber(ARGV[h_at + 2]) end\n"
	"local c_at = h_at + 1\n"
	"for _ = 1, tonumber(ARGV[h_at]) do c_at = c_at + 3 + tonumber(ARGV[c_at + 2]) end\n"
	"\n"
	/* A stored count as a number: absent is 0; anything but an integer that
	 * a double holds exactly is refused, as HINCRBY would refuse it. */
	"local function stored_count(v, key, field)\n"
	"  if not v then return 0 end\n"
	"  local n = string.match(v, '^%-?%d+$') and tonumber(v)\n"
	"  if not n or n > 9007199254740991 or n < -9007199254740991 then\n"
	"    error({err = 'ERR hash value is not an integer: ' .. key .. ' ' .. field})\n"
	"  end\n"
	"  return n\n"
	"end\n"
	"\n"
	"local function verify_partitions()\n"
	"  if np == 0 then return nil end\n"
	"  local fields = {}\n"
	"  for i = 1, np do fields[i] = ARGV[4 * i - 2] end\n"
	"  local tokens = check('HMGET', owners, unpack(fields))\n"
	"  local stored = check('HMGET', offsets, unpack(fields))\n"
	"  local fenced, stale = {3}, {0}\n"
	"  for i = 1, np do\n"
	"    if tokens[i] ~= ARGV[4 * i - 1] then fenced[#fenced + 1] = fields[i] end\n"
	"    if stored[i] and tonumber(stored[i]) > tonumber(ARGV[4 * i]) then\n"
	"      stale[#stale + 1] = fields[i]\n"
	"      stale[#stale + 1] = stored[i]\n"
	"    end\n"
	"  end\n"
	"  if #fenced > 1 then return fenced end\n"
	"  if #stale > 1 then return stale end\n"
	"  return nil\n"
	"end\n"
	"\n"
	"local function verify_ids()\n"
	"  local dups, i = {2}, d_at + 1\n"
	"  for _ = 1, tonumber(ARGV[d_at]) do\n"
	"    local m = tonumber(ARGV[i + 2])\n"
	"    local seen = check('SMISMEMBER', ARGV[i], unpack(ARGV, i + 3, i + 2 + m))\n"
	"    for j = 1, m do\n"
	"      if seen[j] == 1 then dups[#dups + 1] = ARGV[i + 2 + j] end\n"
	"    end\n"
	"    i = i + 3 + m\n"
	"  end\n"
	"  if #dups > 1 then return dups end\n"
	"  return nil\n"
	"end\n"
	"\n"
	/* Keys sent with an expiry are new to the sender: their type is checked. */
	"local function verify_hlls()\n"
	"  local i = h_at + 1\n"
	"  for _ = 1, tonumber(ARGV[h_at]) do\n"
	"    if ARGV[i + 1] ~= '0' then\n"
	"      local head = check('GETRANGE', ARGV[i], 0, 3)\n"
	"      if head ~= '' and head ~= 'HYLL' then\n"
	"        error({err = 'WRONGTYPE ' .. ARGV[i] .. ' is not a HyperLogLog'})\n"
	"      end\n"
	"    end\n"
	"    i = i + 3 + tonumber(ARGV[i + 2])\n"
	"  end\n"
	"end\n"
	"\n"
	/* Reads every count the batch changes and returns the new values. */
	"local function verify_counts()\n"
	"  local writes, i = {}, c_at + 1\n"
	"  for r = 1, tonumber(ARGV[c_at]) do\n"
	"    local key, m = ARGV[i], tonumber(ARGV[i + 2])\n"
	"    local fields = {}\n"
	"    for j = 1, m do fields[j] = ARGV[i + 1 + 2 * j] end\n"
	"    local now = check('HMGET', key, unpack(fields))\n"
	"    local w = {}\n"
	"    for j = 1, m do\n"
	"      local n = stored_count(now[j], key, fields[j]) + tonumber(ARGV[i + 2 + 2 * j])\n"
	"      w[2 * j - 1] = fields[j]\n"
	"      w[2 * j] = string.format('%d', n)\n"
	"    end\n"
	"    writes[r] = w\n"
	"    i = i + 3 + 2 * m\n"
	"  end\n"
	"  return writes\n"
	"end\n"
	"\n"
	"local function verify()\n"
	"  local verdict = verify_partitions() or verify_ids()\n"
	"  if verdict then return verdict end\n"
	"  verify_hlls()\n"
	"  return nil, verify_counts()\n"
	"end\n"
	"\n"
	"local ok, verdict, writes = pcall(verify)\n"
	"if not ok then return {4, type(verdict) == 'table' and verdict.err or tostring(verdict)} end\n"
	"if verdict then return verdict end\n"
	/* HLLs first: a known key that another client has since overwritten
	 * fails here, before any count is written. Members added before the
	 * failure are added again, to the same effect, when the batch is. */
	"local i = h_at + 1\n"
	"for _ = 1, tonumber(ARGV[h_at]) do\n"
	"  local m = tonumber(ARGV[i + 2])\n"
	"  local r = redis.pcall('PFADD', ARGV[i], unpack(ARGV, i + 3, i + 2 + m))\n"
	"  if type(r) == 'table' and r.err then return {4, r.err} end\n"
	"  if ARGV[i + 1] ~= '0' then redis.call('EXPIREAT', ARGV[i], ARGV[i + 1]) end\n"
	"  i = i + 3 + m\n"
	"end\n"
	"i = c_at + 1\n"
	"for r = 1, tonumber(ARGV[c_at]) do\n"
	"  redis.call('HSET', ARGV[i], unpack(writes[r]))\n"
	"  if ARGV[i + 1] ~= '0' then redis.call('EXPIREAT', ARGV[i], ARGV[i + 1]) end\n"
	"  i = i + 3 + 2 * tonumber(ARGV[i + 2])\n"
	"end\n"
	"i = d_at + 1\n"
	"local last\n"
	"for _ = 1, tonumber(ARGV[d_at]) do\n"
	"  local m = tonumber(ARGV[i + 2])\n"
	"  redis.call('SADD', ARGV[i], unpack(ARGV, i + 3, i + 2 + m))\n"
	"  if ARGV[i] ~= last then redis.call('EXPIREAT', ARGV[i], ARGV[i + 1]) end\n"
	"  last = ARGV[i]\n"
	"  i = i + 3 + m\n"
	"end\n"
	"if np > 0 then\n"
	"  local next_offsets = {}\n"
	"  for p = 1, np do\n"
	"    next_offsets[2 * p - 1] = ARGV[4 * p - 2]\n"
	"    next_offsets[2 * p] = ARGV[4 * p + 1]\n"
	"  end\n"
	"  redis.call('HSET', offsets, unpack(next_offsets))\n"
	"end\n"
	"return {1}\n";

const size_t redis_flush_script_len = sizeof(redis_flush_script) - 1;

const char redis_claim_script[] =
	"#!lua\n"
	"local out = {}\n"
	"for i = 2, #ARGV do\n"
	"  redis.call('HSET', KEYS[1], ARGV[i], ARGV[1])\n"
	"  out[#out + 1] = redis.call('HGET', KEYS[2], ARGV[i]) or ''\n"
	"end\n"
	"return out\n";

const size_t redis_claim_script_len = sizeof(redis_claim_script) - 1;

const char redis_governance_swap_script[] =
	"#!lua\n"
	"local stored = redis.call('HGET', KEYS[1], 'version') or ''\n"
	"if stored ~= ARGV[1] then return {0, stored} end\n"
	"redis.call('DEL', KEYS[1])\n"
	"redis.call('HSET', KEYS[1], 'version', ARGV[2], 'pending', ARGV[3], 'pending_at', ARGV[4])\n"
	"for i = 5, #ARGV - 1, 2 do\n"
	"  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])\n"
	"end\n"
	"return {1}\n";

const size_t redis_governance_swap_script_len = sizeof(redis_governance_swap_script) - 1;

const char redis_governance_clear_script[] =
	"#!lua\n"
	"if redis.call('HGET', KEYS[1], 'version') ~= ARGV[1] then return 0 end\n"
	"return redis.call('HDEL', KEYS[1], 'pending', 'pending_at')\n";

const size_t redis_governance_clear_script_len = sizeof(redis_governance_clear_script) - 1;

/*
 * Replaces each history hash in KEYS by one snapshot: ARGV[i] is the
 * expire-at of KEYS[i], then scope and headcount pairs follow.
 */
const char redis_headcount_script[] =
	"#!lua\n"
	"local n = #KEYS\n"
	"for i = 1, n do\n"
	"  redis.call('DEL', KEYS[i])\n"
	"  for j = n + 1, #ARGV - 1, 2 do\n"
	"    redis.call('HSET', KEYS[i], ARGV[j], ARGV[j + 1])\n"
	"  end\n"
	"  redis.call('EXPIREAT', KEYS[i], ARGV[i])\n"
	"end\n"
	"return n\n";

const size_t redis_headcount_script_len = sizeof(redis_headcount_script) - 1;

/*
 * Counts each departure once. ARGV[1] is the number of granularities g.
 * Per departure, KEYS has its idempotency set and then g departure hashes.
 * ARGV has the set member, the set's expire-at, the number of scopes s,
 * the s scope names and g expire-ats. An expire-at of "0" skips that bucket,
 * which is past its retention. Replies with the number of new departures.
 */
const char redis_departures_script[] =
	"#!lua\n"
	"local g = tonumber(ARGV[1])\n"
	"local a, k, added = 2, 1, 0\n"
	"while a <= #ARGV do\n"
	"  local member, set_expire, s = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])\n"
	"  local scopes = a + 3\n"
	"  local fresh = redis.call('SADD', KEYS[k], member)\n"
	"  redis.call('EXPIREAT', KEYS[k], set_expire)\n"
	"  a = scopes + s\n"
	"  for i = 1, g do\n"
	"    local expire = ARGV[a + i - 1]\n"
	"    if fresh == 1 and expire ~= '0' then\n"
	"      for j = 0, s - 1 do\n"
	"        redis.call('HINCRBY', KEYS[k + i], ARGV[scopes + j], 1)\n"
	"      end\n"
	"      redis.call('EXPIREAT', KEYS[k + i], expire)\n"
	"    end\n"
	"  end\n"
	"  a = a + g\n"
	"  k = k + 1 + g\n"
	"  added = added + fresh\n"
	"end\n"
	"return added\n";

const size_t redis_departures_script_len = sizeof(redis_departures_script) - 1;
