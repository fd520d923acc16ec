-- id: unexpected-environment
-- title: Role assumed outside its deployment environments
-- severity: medium
-- identity: role, repository, environment
-- needs: policy environments for the role
-- sources: aws yes; gcp yes; azure yes; vault yes
-- description: The role lists the environments that may assume it and the token has
--   none of them (or no environment at all). Environments carry protection rules
--   (reviewers, branch restrictions); a job without one skipped them.
-- message: {repository} assumed {role_arn} with environment {environment}; allowed:
--   {allowed_environments}.
-- references: https://docs.github.com/en/actions/managing-workflow-runs-and-deployments/managing-deployments/managing-environments-for-deployment
SELECT session_key, time, environment, allowed_environments
FROM sessions
WHERE environment_allowed = false
