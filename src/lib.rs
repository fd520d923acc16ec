//! rolecall audits federated CI/CD role sessions: it reads cloud audit
//! trails and CI token claims, joins every role exchange to the token behind
//! it, follows the issued credentials through every later call, and flags
//! what breaks the trust boundary.
//!
//! Data flows one way: [`cli`] → [`pipeline`] → [`ingest`] → [`correlate`]
//! → [`detect`] → [`output`] | [`tui`] | [`report`], and every module may
//! use [`model`] and the leaves [`error`] and [`text`]. [`policy`] (the
//! policy file) is below everything that judges; [`trust`] (trust
//! policies evaluated as AWS does) sits beside [`detect`]; `rolecall
//! report`'s memory is [`report::state`]; [`lake`] writes the tables as
//! Parquet for engines that scale out (`rolecall export`) and reads them
//! back in place of ingest and the joins (`rolecall scan --from-parquet`).
//! [`limits`] stops a run cleanly. Each module opens with what it owns and
//! what it may import; `tests/integration/architecture.rs` holds the code
//! to that.

pub mod cli;
pub mod correlate;
pub mod detect;
pub mod error;
pub mod ingest;
pub mod lake;
pub mod limits;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod policy;
pub mod report;
pub mod text;
pub mod trust;
pub mod tui;
