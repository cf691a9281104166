-- Runs last when the Lua state is created (see readonly.rs): moves the
-- globals into a hidden table behind an empty `_G` proxy, and puts each
-- library behind a proxy too, so scripts can neither change them nor add
-- globals. `proxies` maps each proxy to its table for the C wrappers.
local proxies, raw_getmetatable = ...
local _G, next, rawset, setmetatable, error, tostring = _G, next, rawset, setmetatable, error, tostring

local function refuse() error('Attempt to modify a readonly table', 2) end
local function protect(t)
    local p = setmetatable({}, { __index = t, __newindex = refuse, __metatable = false })
    proxies[p] = t
    return p
end

local G = {}
for k, v in next, _G do G[k] = v end
for k in next, G do rawset(_G, k, nil) end
for _, name in next, { 'string', 'table', 'math', 'coroutine', 'cjson', 'bit', 'struct', 'cmsgpack', 'redis' } do
    if G[name] then G[name] = protect(G[name]) end
end
local string_mt = raw_getmetatable('')
string_mt.__index = G.string

local missing = {
    __index = function(_, k)
        error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
    end,
}
setmetatable(G, missing)
G._G = _G
setmetatable(_G, { __index = G, __newindex = refuse, __metatable = false })
proxies[_G] = G
return G, protect(string_mt), protect(missing)
