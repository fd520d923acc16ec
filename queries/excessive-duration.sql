-- id: excessive-duration
-- title: Session longer than the role allows
-- severity: medium
-- identity: role, repository
-- needs: the audit log only
-- sources: aws yes (durationSeconds, else the expiration); gcp no (token lifetimes are not
--   logged with the exchange); azure no (sign-in logs carry no token lifetime); vault yes
--   (token_ttl)
-- description: The session lasts longer than the role's max_session_duration (from
--   the requested durationSeconds, else from the credentials' expiration, else the
--   STS default of one hour). Long-lived CI credentials outlive the job and widen
--   the window for a stolen key.
-- message: {repository} got a {duration_seconds}s session on {role_arn}; the role
--   allows {max_duration_seconds}s.
-- references: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html
SELECT session_key, time, duration_seconds, max_duration_seconds, duration_source
FROM sessions
WHERE duration_seconds > max_duration_seconds
