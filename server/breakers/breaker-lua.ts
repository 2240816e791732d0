// The breaker's rules as Lua scripts over its shared state in Redis, so every transition is
// atomic however many caller instances report at once. Same rules as breaker-machine.ts
// (one table of scenarios tests both). KEYS: state hash, window hash (one hash tag per pair,
// so they work on Redis Cluster). Every change is announced on the changes channel as
// "<pair>|<version>".

// ARGV[1] now, ARGV[2..7] config, ARGV[8] pair id, ARGV[9] channel; script-specific from ARGV[10].
const PRELUDE = `
local now = tonumber(ARGV[1])
local cfg = { failureRate = tonumber(ARGV[2]), minimumCalls = tonumber(ARGV[3]), windowMs = tonumber(ARGV[4]),
  openMs = tonumber(ARGV[5]), maxOpenMs = tonumber(ARGV[6]), halfOpenPermits = tonumber(ARGV[7]) }
local pair, channel = ARGV[8], ARGV[9]
local TEXT = { state = true, forced = true, reason = true }
local FIELDS = { 'state', 'since', 'openUntil', 'opens', 'trialsTaken', 'trialSuccesses', 'forced', 'forcedUntil',
  'version', 'reason', 'calls', 'failures', 'rejections' }

local function load()
  local s = { state = 'closed', since = 0, openUntil = 0, opens = 0, trialsTaken = 0, trialSuccesses = 0,
    forced = '', forcedUntil = 0, version = 0, reason = 'new breaker', calls = 0, failures = 0, rejections = 0 }
  local raw = redis.call('HGETALL', KEYS[1])
  for i = 1, #raw, 2 do
    if TEXT[raw[i]] then s[raw[i]] = raw[i + 1] else s[raw[i]] = tonumber(raw[i + 1]) end
  end
  return s
end

local function save(s)
  local args = {}
  for _, k in ipairs(FIELDS) do
    table.insert(args, k)
    if TEXT[k] then table.insert(args, s[k]) else table.insert(args, string.format('%.0f', s[k])) end
  end
  redis.call('HSET', KEYS[1], unpack(args))
end

local function announce(s)
  redis.call('PUBLISH', channel, pair .. '|' .. string.format('%.0f', s.version))
end

local function forcedNow(s)
  if s.forced ~= '' and (s.forcedUntil == 0 or now < s.forcedUntil) then return s.forced end
  return ''
end

local function open(s, reason)
  s.opens = s.opens + 1
  local t = cfg.openMs * (2 ^ math.max(0, s.opens - 1))
  if t > cfg.maxOpenMs then t = cfg.maxOpenMs end
  s.state = 'open'; s.since = now; s.openUntil = now + t
  s.trialsTaken = 0; s.trialSuccesses = 0; s.version = s.version + 1; s.reason = reason
end

local function result(s, from, granted)
  return { from, granted, redis.call('HGETALL', KEYS[1]) }
end
`;

/** ARGV[10] calls, ARGV[11] failures, ARGV[12] rejections. Returns { fromStateIfTransitioned|"", 0, state }. */
export const RECORD_LUA = `${PRELUDE}
local s = load()
local size = math.max(1, math.floor(cfg.windowMs / 10))
local bucket = math.floor(now / size)
redis.call('HINCRBY', KEYS[2], bucket .. ':c', tonumber(ARGV[10]))
redis.call('HINCRBY', KEYS[2], bucket .. ':f', tonumber(ARGV[11]))
if tonumber(ARGV[12]) > 0 then redis.call('HINCRBY', KEYS[2], bucket .. ':r', tonumber(ARGV[12])) end
local oldest = math.floor((now - cfg.windowMs) / size)
local calls, failures, rejections = 0, 0, 0
local raw = redis.call('HGETALL', KEYS[2])
for i = 1, #raw, 2 do
  local b, kind = string.match(raw[i], '^(-?%d+):(%a)$')
  if tonumber(b) <= oldest then
    redis.call('HDEL', KEYS[2], raw[i])
  elseif kind == 'c' then calls = calls + tonumber(raw[i + 1])
  elseif kind == 'f' then failures = failures + tonumber(raw[i + 1])
  else rejections = rejections + tonumber(raw[i + 1]) end
end
if s.state == 'closed' then s.calls = calls; s.failures = failures end
s.rejections = rejections
redis.call('PEXPIRE', KEYS[2], cfg.windowMs * 2)
local from = ''
if s.state == 'closed' and forcedNow(s) == '' and calls >= cfg.minimumCalls and calls > 0
  and failures / calls >= cfg.failureRate then
  from = s.state
  open(s, string.format('failure rate %.1f%% >= %.1f%% over %d calls (%d failed)',
    failures / calls * 100, cfg.failureRate * 100, calls, failures))
  redis.call('DEL', KEYS[2])
end
save(s)
if from ~= '' then announce(s) end
return result(s, from, 0)
`;

/** Returns { fromStateIfTransitioned|"", granted 0/1, state }. */
export const ACQUIRE_TRIAL_LUA = `${PRELUDE}
local s = load()
local forced = forcedNow(s)
if forced ~= '' then
  if forced == 'open' then return result(s, '', 0) end
  return result(s, '', 1)
end
if s.state == 'closed' then return result(s, '', 1) end
local from = ''
if s.state == 'open' then
  if now < s.openUntil then return result(s, '', 0) end
  from = 'open'
  s.reason = 'open for ' .. string.format('%.0f', now - s.since) .. ' ms: letting ' .. cfg.halfOpenPermits .. ' trial calls through'
  s.state = 'half_open'; s.since = now; s.trialsTaken = 0; s.trialSuccesses = 0; s.version = s.version + 1
end
local granted = 0
if s.trialsTaken < cfg.halfOpenPermits then
  s.trialsTaken = s.trialsTaken + 1
  granted = 1
end
save(s)
if from ~= '' then announce(s) end
return result(s, from, granted)
`;

/** ARGV[10] "1" for a successful trial call, "0" for a failed one. */
export const REPORT_TRIAL_LUA = `${PRELUDE}
local s = load()
if s.state ~= 'half_open' or forcedNow(s) ~= '' then return result(s, '', 0) end
local from = ''
if ARGV[10] ~= '1' then
  from = s.state
  open(s, 'a trial call failed')
  redis.call('DEL', KEYS[2])
else
  s.trialSuccesses = s.trialSuccesses + 1
  if s.trialSuccesses >= cfg.halfOpenPermits then
    from = s.state
    s.reason = s.trialSuccesses .. (s.trialSuccesses == 1 and ' trial call' or ' trial calls') .. ' succeeded'
    s.state = 'closed'; s.since = now; s.opens = 0; s.openUntil = 0; s.trialsTaken = 0; s.trialSuccesses = 0
    s.calls = 0; s.failures = 0; s.rejections = 0; s.version = s.version + 1
    redis.call('DEL', KEYS[2])
  end
end
save(s)
if from ~= '' then announce(s) end
return result(s, from, 0)
`;

/** ARGV[10] forced state or "" to clear, ARGV[11] until (ms since epoch, 0 for no expiry). */
export const FORCE_LUA = `${PRELUDE}
local s = load()
s.forced = ARGV[10]
if ARGV[10] == '' then s.forcedUntil = 0; s.reason = 'override cleared'
else s.forcedUntil = tonumber(ARGV[11]); s.reason = 'forced ' .. ARGV[10] .. ' by an operator' end
s.since = now
s.version = s.version + 1
save(s)
announce(s)
return result(s, '', 0)
`;

/** Starts the breaker closed and fresh; an override stays. */
export const RESET_LUA = `${PRELUDE}
local s = load()
local kept = { forced = s.forced, forcedUntil = s.forcedUntil, version = s.version }
s = { state = 'closed', since = now, openUntil = 0, opens = 0, trialsTaken = 0, trialSuccesses = 0,
  forced = kept.forced, forcedUntil = kept.forcedUntil, version = kept.version + 1,
  reason = 'counters reset by an operator', calls = 0, failures = 0, rejections = 0 }
redis.call('DEL', KEYS[2])
save(s)
announce(s)
return result(s, '', 0)
`;
