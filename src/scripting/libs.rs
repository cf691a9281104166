//! The libraries Redis ships to scripts: cjson, bit, struct, cmsgpack.

use mlua::Lua;

pub fn register(lua: &Lua) -> mlua::Result<()> {
    let g = lua.globals();
    for name in ["cjson", "bit", "struct", "cmsgpack"] {
        g.raw_set(name, lua.create_table()?)?;
    }
    Ok(())
}
