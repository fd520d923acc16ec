-- id: untrusted-repository
-- title: Role assumed by a repository it does not trust
-- severity: critical
-- identity: role, repository
-- needs: policy repositories for the role
-- sources: aws yes; gcp yes; azure yes; vault yes
-- description: The policy lists the repositories that may assume this role and the
--   token's repository matches none of them. Usually a trust policy that admits a
--   whole organization (repo:org/*) or a forked or renamed repository.
-- message: {repository} assumed {role_arn}, which only trusts {allowed_repositories}.
-- references: https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services, https://attack.mitre.org/techniques/T1078/004/
SELECT session_key, time, repository, allowed_repositories
FROM sessions
WHERE repository_allowed = false
