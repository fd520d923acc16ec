-- id: tier-mismatch
-- title: Lower-tier workload assumed a higher-tier role
-- severity: critical
-- identity: role, repository, environment
-- needs: a role tier (policy or name) and the token's environment (claims or an environment
--   subject)
-- sources: aws yes; gcp yes; azure yes; vault yes
-- description: The token's tier (its environment mapped by [tiers], or GitLab's
--   deployment_tier) is below the role's tier (the policy's tier for the role,
--   else the tier its name suggests). development < staging < production. A
--   staging or test job holding production credentials has crossed the trust
--   boundary the environments were meant to draw.
-- message: A {token_tier} workload ({repository}, environment {environment}) assumed
--   {role_arn}, a {role_tier} role.
-- references: https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect, https://docs.gitlab.com/ci/cloud_services/
SELECT session_key, time, token_tier, role_tier, role_tier_inferred, environment
FROM sessions
WHERE token_tier_rank < role_tier_rank
