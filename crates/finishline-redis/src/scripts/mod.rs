//! The Lua scripts, one module each next to its `.lua` file: the module builds the script's
//! KEYS and typed ARGV and decodes its reply. Every key a script touches is passed in KEYS,
//! and every call touches one slot: the keys of one queue (its tag), or of one event group.
//! Operations that span both are two calls, the event side first (`enqueue` then `push`,
//! `retry` then its schedule, `redrive` then `push`, `batch` then `settle`); each module
//! says where a crash between them leaves things.
//!
//! The scripts that publish messages (batch, enqueue, redrive) and retry share the functions
//! of `prelude.lua` (seq stamping, publishing, counters, the exactly-once job end), prepended
//! to their body.

use redis::Script;

pub mod batch;
pub mod enqueue;
pub mod fetch;
pub mod hand_back;
pub mod promote;
pub mod push;
pub mod redrive;
pub mod requeue;
pub mod retry;
pub mod settle;
pub mod stats;

/// Functions shared by the scripts that publish: seq stamping, publishing, counters.
const PRELUDE: &str = include_str!("prelude.lua");

/// A script made of the prelude and `body`.
fn with_prelude(body: &str) -> Script {
    Script::new(&format!("{PRELUDE}\n{body}"))
}
