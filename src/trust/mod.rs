//! Trust policies: what a role's trust policy admits, evaluated as AWS
//! evaluates it, and the trust inputs rolecall reads (role snapshots, trust
//! changes from CloudTrail, OIDC provider changes, GCP pool providers).
//!
//! This module is a shared leaf like `model` and `policy`: ingest fills
//! [`TrustInputs`], detect judges them, the `trust` and `policy init`
//! commands explain them. It imports only `model`.

pub mod condition;
pub mod context;
pub mod evaluate;
pub mod policy_doc;
