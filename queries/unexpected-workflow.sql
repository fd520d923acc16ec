-- id: unexpected-workflow
-- title: Role assumed by an unexpected workflow
-- severity: medium
-- identity: role, evidence.workflow_ref
-- needs: policy workflows for the role; the workflow ref (claims or custom subject)
-- sources: aws yes; gcp yes; azure yes; vault yes
-- description: The role lists the workflows (job_workflow_ref, or GitLab's
--   ci_config_ref_uri) that may assume it and the token's workflow matches none.
--   Any workflow file in a trusted repository can request a token; pinning the
--   workflow keeps ad-hoc or modified workflows away from the role.
-- message: {repository} assumed {role_arn} from workflow {workflow_ref}; allowed:
--   {allowed_workflows}.
-- references: https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/using-openid-connect-with-reusable-workflows
SELECT session_key, time, workflow_ref, allowed_workflows
FROM sessions
WHERE workflow_allowed = false
