//! Text that comes from logs, made safe for where it goes. A leaf: it
//! imports nothing of the crate, and every writer takes its escaping from
//! here.
//!
//! Logs are attacker-controlled: a user agent, a session name or an
//! account id can carry terminal escapes, markup, formulas, mentions or
//! path separators. [`terminal`](mod@terminal) makes text visible and one line (every
//! other escaper starts from it); [`html`], [`xml`](mod@xml), [`csv`],
//! [`markdown`] and [`json`] escape it for those formats; [`jwt`] removes JWT
//! signatures; [`file_name`] turns it into the name of a file rolecall
//! writes.

pub mod csv;
pub mod file_name;
pub mod html;
pub mod json;
pub mod jwt;
pub mod markdown;
pub mod terminal;
pub mod xml;

pub use csv::csv_field;
pub use html::esc;
pub use markdown::md;
pub use terminal::{cell, is_unsafe_char, terminal, truncate};
pub use xml::xml;
