-- id: pull-request-assumption
-- title: Pull-request run assumed a protected role
-- severity: high
-- identity: role, repository, trigger
-- needs: the token's trigger or ref
-- sources: aws yes; gcp yes; azure yes; vault yes
-- description: A token minted for a pull- or merge-request run (trigger pull_request,
--   pull_request_target or merge_request_event, a :pull_request subject, or a
--   refs/pull or refs/merge-requests ref) assumed a role whose events do not allow
--   it, or, when the role lists no events, a staging- or production-tier role.
--   Pull-request code is unreviewed and may come from a fork.
-- message: A pull-request run of {repository} (trigger {trigger}, ref {ref}) assumed
--   {role_arn}.
-- references: https://securitylab.github.com/resources/github-actions-preventing-pwn-requests/, https://attack.mitre.org/techniques/T1195/002/
SELECT session_key, time, trigger, ref, allowed_events, role_tier
FROM sessions
WHERE pull_request_allowed = false
