//! Text that comes from logs, made safe for where it goes. A leaf: it
//! imports nothing of the crate.
//!
//! Logs are attacker-controlled: a user agent, a session name or an
//! account id can carry terminal escapes, markup or path separators.
//! [`file_name`] turns such text into the name of a file rolecall writes.

pub mod file_name;
