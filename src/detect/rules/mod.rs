//! The detections written in Rust, one file each, each with its
//! `const RULE` descriptor and its documentation: the sliding-window burst
//! of failed exchanges, expired suppressions, the three that compare a run
//! with earlier ones (`rolecall report --state`; their shared observation
//! of a run is [`history`]), and the trust rules ([`trust`]) and the four static-key rules, which
//! read the [`KeyReport`](crate::model::keys::KeyReport) built by
//! [`keys`](super::keys). The SQL
//! detections are `queries/*.sql` ([`sql`](super::sql)); both kinds are
//! listed by [`registry`](super::registry).

pub mod dormant_role_used;
pub mod expired_suppression;
pub mod failure_burst;
pub mod first_seen_subject;
pub mod history;
pub mod new_api_surface;
pub mod static_key_after_migration;
pub mod static_key_in_ci;
pub mod static_key_old;
pub mod static_key_unused;
pub mod trust;
