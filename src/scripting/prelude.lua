-- Runs once when the Lua state is created, before the globals are frozen.
-- `hidden` is a table only Rust and this chunk can reach: Rust stores the
-- per-run command caller in it (`rcall`) and reads the RESP version the
-- script asked for (`resp`).
local hidden, rand = ...
local dbg = debug
local error, type, tostring, select, floor, ceil, tonumber =
    error, type, tostring, select, math.floor, math.ceil, tonumber

-- Redis's error handler: string errors become {err='ERR ...'}; the source
-- and line of the script frame are recorded for the final error reply.
-- Frames of this chunk are skipped like C frames, so an error raised by
-- redis.call points at the script, as in Redis.
local function internal(i)
    return i and (i.what == 'C' or i.source == '=[russet]')
end
-- Errors raised by Rust functions arrive as userdata; their text starts
-- with \1 when it is a Redis error reply (an error table in Redis), \2
-- when it is a plain message (a string error in Redis).
local find, sub = string.find, string.sub
local function rust_error(e)
    local s = tostring(e)
    local cut = find(s, '\nstack traceback:', 1, true)
    if cut then s = sub(s, 1, cut - 1) end
    if sub(s, 1, 1) == '\1' then return { err = sub(s, 2) } end
    if sub(s, 1, 1) == '\2' then return sub(s, 2) end
    return s
end
__redis__err__handler = function(err)
    if type(err) == 'userdata' then err = rust_error(err) end
    local level = 2
    local i = dbg.getinfo(level, 'nSl')
    while internal(i) do
        level = level + 1
        i = dbg.getinfo(level, 'nSl')
    end
    if type(err) ~= 'table' then
        err = { err = 'ERR ' .. tostring(err) }
    end
    if i then
        err['source'] = i.source
        err['line'] = i.currentline
    end
    return err
end

local handler = __redis__err__handler
hidden.run = function(f, n, keys, args)
    if n == 0 then
        return xpcall(f, handler)
    end
    return xpcall(function() return f(keys, args) end, handler)
end

redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
redis.replicate_commands = function() return true end
redis.breakpoint = function() return false end
redis.debug = function() end

-- Redis replaces math.random with its own rand48 so scripts are
-- reproducible; the generator's state lives in Rust and is never reseeded
-- between scripts.
local function checkint(v, n, name)
    local x = tonumber(v)
    if x == nil then
        error("bad argument #" .. n .. " to '" .. name .. "' (number expected, got " ..
            (v == nil and 'no value' or type(v)) .. ")", 3)
    end
    if x >= 0 then return floor(x) end
    return ceil(x)
end
math.random = function(...)
    local r = rand()
    local n = select('#', ...)
    if n == 0 then
        return r
    elseif n == 1 then
        local u = checkint((...), 1, 'random')
        if u < 1 then error("bad argument #1 to 'random' (interval is empty)", 2) end
        return floor(r * u) + 1
    elseif n == 2 then
        local l, u = ...
        l, u = checkint(l, 1, 'random'), checkint(u, 2, 'random')
        if l > u then error("bad argument #2 to 'random' (interval is empty)", 2) end
        return floor(r * (u - l + 1)) + l
    end
    error('wrong number of arguments', 2)
end
math.randomseed = function(seed)
    rand(checkint(seed, 1, 'randomseed'))
end

-- Redis 7's pcall hands back the message of an error table, not the table.
local raw_pcall = pcall
local function unwrap(ok, ...)
    if not ok then
        local e = ...
        if type(e) == 'userdata' then e = rust_error(e) end
        if type(e) == 'string' then return false, e end
        if type(e) == 'table' and type(e.err) == 'string' then
            return false, e.err
        end
    end
    return ok, ...
end
pcall = function(...)
    return unwrap(raw_pcall(...))
end

-- FUNCTION LOAD runs a library's code with nothing but `redis`, limited to
-- what Redis allows at load time (Redis 7.0 gives loading code no other
-- global, not even `type`); the functions it registers see every global
-- and the full `redis` when called. One environment serves every library.
local loadapi = {
    register_function = function(...)
        local e = hidden.register(...)
        if e then error(e) end
    end,
    log = redis.log,
    REDIS_VERSION = redis.REDIS_VERSION,
    REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM,
    LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
}
local function missing(_, k)
    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end
setmetatable(loadapi, { __index = missing, __newindex = function() error('Attempt to modify a readonly table', 2) end })
local rawget = rawget
hidden.fenv = setmetatable({}, {
    __index = function(_, k)
        if hidden.loading then
            if k == 'redis' then return loadapi end
            error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
        end
        local v = rawget(hidden.G, k)
        if v == nil then
            error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
        end
        return v
    end,
    __newindex = function() error('Attempt to modify a readonly table', 2) end,
    __metatable = false,
})
