//! Trust policies: what a role's trust policy admits, evaluated as AWS
//! evaluates it (conditions, breadth by probing, usage against what was
//! observed, tightened suggestions).
//!
//! It sits beside `detect`: the trust rules (`detect::trust`) and the
//! `trust` and `policy init` commands use it. The inputs it judges
//! (`model::trust`) and the policy document grammar (`model::policy_doc`)
//! are in the model, where ingest fills them. It imports `model`, `policy`
//! and `text`.

pub mod analyze;
pub mod condition;
pub mod context;
pub mod evaluate;
pub mod suggest;
pub mod usage;

pub use crate::model::trust::{
    OidcProviderChange, RoleHistory, RoleTrust, TrustInputs, TrustOrigin, WifProvider,
};
