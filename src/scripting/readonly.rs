//! Read-only globals and libraries, as Redis 7.0 has them. Redis's Lua
//! carries a read-only flag on tables; stock Lua 5.1 has none, so
//! `freeze.lua` moves every global into a hidden table and replaces `_G`
//! and each library by an empty proxy that reads through and refuses
//! writes. The functions that look at a table's own contents (`next`,
//! `pairs`, `rawget`) see through proxies here, and those that write
//! around `__newindex` (`rawset`, `setmetatable`, `table.insert`) refuse
//! them with Redis's error.

use super::capi::check_stack;
use mlua::ffi::{self, lua_State};
use mlua::{Function, Lua, Table};
use std::ffi::{c_int, CStr};

const PROXIES: &CStr = c"russet.readonly";
const NEXT: &CStr = c"russet.next";
const SETMETATABLE: &CStr = c"russet.setmetatable";
const GETMETATABLE: &CStr = c"russet.getmetatable";
const TINSERT: &CStr = c"russet.tinsert";
const STRING_MT: &CStr = c"russet.stringmt";
const GLOBALS_MT: &CStr = c"russet.globalsmt";

/// Installs the wrappers and freezes the globals. Returns the table that
/// really holds the globals (where KEYS and ARGV are set).
pub fn install<'l>(lua: &'l Lua) -> mlua::Result<Table<'l>> {
    let g = lua.globals();
    let table: Table = g.raw_get("table")?;
    let getmt: Function = g.raw_get("getmetatable")?;
    lua.set_named_registry_value(name(NEXT), g.raw_get::<_, Function>("next")?)?;
    lua.set_named_registry_value(
        name(SETMETATABLE),
        g.raw_get::<_, Function>("setmetatable")?,
    )?;
    lua.set_named_registry_value(name(GETMETATABLE), getmt.clone())?;
    lua.set_named_registry_value(name(TINSERT), table.raw_get::<_, Function>("insert")?)?;
    let proxies = lua.create_table()?;
    lua.set_named_registry_value(name(PROXIES), proxies.clone())?;
    // SAFETY: the wrappers follow the C API's contract.
    unsafe {
        g.raw_set("next", lua.create_c_function(next)?)?;
        g.raw_set("pairs", lua.create_c_function(pairs)?)?;
        g.raw_set("rawget", lua.create_c_function(rawget)?)?;
        g.raw_set("rawset", lua.create_c_function(rawset)?)?;
        g.raw_set("setmetatable", lua.create_c_function(setmetatable)?)?;
        g.raw_set("getmetatable", lua.create_c_function(getmetatable)?)?;
        table.raw_set("insert", lua.create_c_function(tinsert)?)?;
    }
    let (globals, string_mt, globals_mt): (Table, Table, Table) = lua
        .load(include_str!("freeze.lua"))
        .set_name("=[russet]")
        .call((proxies, getmt))?;
    lua.set_named_registry_value(name(STRING_MT), string_mt)?;
    lua.set_named_registry_value(name(GLOBALS_MT), globals_mt)?;
    Ok(globals)
}

fn name(key: &'static CStr) -> &'static str {
    key.to_str().unwrap_or_default()
}

/// If the value at `idx` is a proxy, replaces it with the table behind it.
unsafe fn see_through(l: *mut lua_State, idx: c_int) -> bool {
    ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, PROXIES.as_ptr());
    ffi::lua_pushvalue(l, idx);
    ffi::lua_rawget(l, -2);
    let found = ffi::lua_isnil(l, -1) == 0;
    if found {
        ffi::lua_replace(l, idx);
        ffi::lua_pop(l, 1);
    } else {
        ffi::lua_pop(l, 2);
    }
    found
}

unsafe fn is_proxy(l: *mut lua_State, idx: c_int) -> bool {
    ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, PROXIES.as_ptr());
    ffi::lua_pushvalue(l, idx);
    ffi::lua_rawget(l, -2);
    let found = ffi::lua_isnil(l, -1) == 0;
    ffi::lua_pop(l, 2);
    found
}

/// Redis raises this from the VM, without a position, for raw writes.
unsafe fn refuse(l: *mut lua_State) -> c_int {
    ffi::lua_pushstring(l, c"Attempt to modify a readonly table".as_ptr());
    ffi::lua_error(l)
}

/// Calls the original C function saved under `key` on this very frame, so
/// its errors name the function as the script called it.
unsafe fn original(l: *mut lua_State, key: &CStr) -> c_int {
    ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, key.as_ptr());
    let f = ffi::lua_tocfunction(l, -1);
    ffi::lua_pop(l, 1);
    match f {
        Some(f) => f(l),
        None => 0,
    }
}

unsafe extern "C-unwind" fn next(l: *mut lua_State) -> c_int {
    see_through(l, 1);
    ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
    ffi::lua_settop(l, 2);
    if ffi::lua_next(l, 1) != 0 {
        2
    } else {
        ffi::lua_pushnil(l);
        1
    }
}

unsafe extern "C-unwind" fn pairs(l: *mut lua_State) -> c_int {
    see_through(l, 1);
    ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
    check_stack(l, 3, c"pairs");
    ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, NEXT.as_ptr());
    ffi::lua_pushvalue(l, 1);
    ffi::lua_pushnil(l);
    3
}

unsafe extern "C-unwind" fn rawget(l: *mut lua_State) -> c_int {
    see_through(l, 1);
    ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
    ffi::luaL_checkany(l, 2);
    ffi::lua_settop(l, 2);
    ffi::lua_rawget(l, 1);
    1
}

unsafe extern "C-unwind" fn rawset(l: *mut lua_State) -> c_int {
    ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
    ffi::luaL_checkany(l, 2);
    ffi::luaL_checkany(l, 3);
    if is_proxy(l, 1) {
        return refuse(l);
    }
    ffi::lua_settop(l, 3);
    ffi::lua_rawset(l, 1);
    1
}

unsafe extern "C-unwind" fn setmetatable(l: *mut lua_State) -> c_int {
    if is_proxy(l, 1) {
        let t = ffi::lua_type(l, 2);
        if t != ffi::LUA_TNIL && t != ffi::LUA_TTABLE {
            return ffi::luaL_argerror(l, 2, c"nil or table expected".as_ptr());
        }
        return refuse(l);
    }
    original(l, SETMETATABLE)
}

unsafe extern "C-unwind" fn getmetatable(l: *mut lua_State) -> c_int {
    ffi::luaL_checkany(l, 1);
    if is_proxy(l, 1) {
        // Only _G has a metatable in Redis (read-only, with the __index
        // that rejects unknown globals).
        ffi::lua_pushvalue(l, ffi::LUA_GLOBALSINDEX);
        if ffi::lua_rawequal(l, 1, -1) != 0 {
            ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, GLOBALS_MT.as_ptr());
        } else {
            ffi::lua_pushnil(l);
        }
        return 1;
    }
    if ffi::lua_type(l, 1) == ffi::LUA_TSTRING {
        ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, STRING_MT.as_ptr());
        return 1;
    }
    original(l, GETMETATABLE)
}

unsafe extern "C-unwind" fn tinsert(l: *mut lua_State) -> c_int {
    let n = ffi::lua_gettop(l);
    if is_proxy(l, 1) && (n == 2 || n == 3) {
        if n == 3 {
            ffi::luaL_checkinteger(l, 2);
        }
        return refuse(l);
    }
    original(l, TINSERT)
}
