//! The state file's schema, as an ordered list of migrations. A file's
//! `user_version` is the number of migrations applied; opening an older file
//! applies the rest in one transaction. Never edit a released migration:
//! add one.

/// Version 1: runs, what each run saw per role, every exchange, and every
/// finding with its status.
const V1: &str = "
CREATE TABLE runs (
    id               INTEGER PRIMARY KEY,
    -- The window and the inputs, hashed: re-running them replaces the run.
    window_key       TEXT NOT NULL UNIQUE,
    started_at       INTEGER NOT NULL,
    finished_at      INTEGER NOT NULL,
    window_start     INTEGER,
    window_end       INTEGER,
    inputs           TEXT NOT NULL,
    policy           TEXT,
    files            INTEGER NOT NULL,
    records          INTEGER NOT NULL,
    events           INTEGER NOT NULL,
    exchanges        INTEGER NOT NULL,
    failed_exchanges INTEGER NOT NULL,
    sessions         INTEGER NOT NULL,
    findings         INTEGER NOT NULL,
    input_errors     INTEGER NOT NULL,
    duration_ms      INTEGER NOT NULL,
    version          TEXT NOT NULL
);

-- Per run and role: each issuer, repository, ref, environment, workflow and
-- trigger its sessions came from. The baseline is the union over runs.
CREATE TABLE role_values (
    run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    sessions   INTEGER NOT NULL,
    PRIMARY KEY (run_id, role, kind, value)
);
CREATE INDEX role_values_by_role ON role_values (role, kind, value);

-- Every exchange once (by audit event id), successful or not.
CREATE TABLE exchanges (
    event_id TEXT PRIMARY KEY,
    run_id   INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    time     INTEGER NOT NULL,
    role     TEXT NOT NULL,
    tier     TEXT,
    failed   INTEGER NOT NULL
);
CREATE INDEX exchanges_by_role ON exchanges (role, time);
CREATE INDEX exchanges_by_run ON exchanges (run_id);

-- Each run's findings by fingerprint with their status; findings of the
-- previous run that did not come back are recorded as resolved.
CREATE TABLE finding_runs (
    run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('new', 'recurring', 'resolved')),
    rule        TEXT NOT NULL,
    severity    TEXT NOT NULL,
    title       TEXT NOT NULL,
    message     TEXT NOT NULL,
    role        TEXT,
    subject     TEXT,
    time        INTEGER,
    PRIMARY KEY (run_id, fingerprint)
);
CREATE INDEX finding_runs_by_fingerprint ON finding_runs (fingerprint);
";

/// Version 2: per CI workflow, the API actions its sessions called (for
/// `new-api-surface`), and the digest of the policy each run used.
const V2: &str = "
CREATE TABLE workflow_actions (
    run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    workflow   TEXT NOT NULL,
    action     TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    calls      INTEGER NOT NULL,
    PRIMARY KEY (run_id, workflow, action)
);
CREATE INDEX workflow_actions_by_workflow ON workflow_actions (workflow, action);
ALTER TABLE runs ADD COLUMN policy_sha256 TEXT;
";

/// Version 3: each run's long-term keys and their verdicts (for the
/// report's "stopped" keys: in CI last run, not this one).
const V3: &str = "
CREATE TABLE static_keys (
    run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    user      TEXT,
    account   TEXT,
    verdict   TEXT NOT NULL,
    in_ci     INTEGER NOT NULL,
    last_used INTEGER,
    calls     INTEGER NOT NULL,
    PRIMARY KEY (run_id, key)
);
";

/// Every migration, in order; the schema version is its count.
pub const MIGRATIONS: &[&str] = &[V1, V2, V3];

/// The schema version this build writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;
