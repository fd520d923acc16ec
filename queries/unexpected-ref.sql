-- id: unexpected-ref
-- title: Role assumed from an unexpected ref
-- severity: high
-- identity: role, repository, ref
-- needs: policy refs, or a production-tier role; the token's ref
-- sources: aws yes; gcp yes; azure yes; vault yes
-- description: The token's ref matches none of the role's refs; for a production-tier
--   role without refs, anything but the default branch (main or master) or a tag.
--   A feature branch or pull-request ref holding deploy credentials means code
--   that skipped review can act as the role.
-- message: {repository} assumed {role_arn} from {ref}; allowed: {allowed_refs}.
-- references: https://docs.github.com/en/actions/reference/security/oidc, https://attack.mitre.org/techniques/T1078/004/
SELECT session_key, time, ref, allowed_refs, ref_rule
FROM sessions
WHERE ref_allowed = false
