//! Integration tests, compiled into one binary (as ripgrep does) so that the
//! polars link happens once.

mod architecture;
mod bad_input;
mod bounds;
mod cli;
mod common;
mod conformance;
mod detections;
mod formats;
mod ingest;
mod lake;
mod output;
mod properties;
mod queries;
mod remote;
mod report;
mod sources;
mod static_keys;
mod trust;
mod tui;
mod tui_e2e;
