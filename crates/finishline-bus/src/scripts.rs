//! The Lua scripts of the bus, each prefixed with the shared prelude.

use std::sync::LazyLock;

use redis::Script;

/// Functions shared by every finishline script: seq stamping, publishing, counters.
/// Public so the queue crate's enqueue script publishes exactly as the bus does.
pub const LUA_PRELUDE: &str = include_str!("lua/prelude.lua");

/// Builds a script from the prelude and a body.
pub fn with_prelude(body: &str) -> Script {
    Script::new(&format!("{LUA_PRELUDE}\n{body}"))
}

pub(crate) static FINISH: LazyLock<Script> =
    LazyLock::new(|| with_prelude(include_str!("lua/finish.lua")));
pub(crate) static BATCH: LazyLock<Script> = LazyLock::new(|| {
    with_prelude(concat!(
        include_str!("lua/bib_index.lua"),
        "\n",
        include_str!("lua/batch.lua")
    ))
});
