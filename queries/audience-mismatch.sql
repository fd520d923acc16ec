-- id: audience-mismatch
-- title: Token audience not allowed for its issuer
-- severity: high
-- identity: role, issuer, repository, evidence.audience
-- needs: policy [[issuer]] audiences
-- sources: aws yes; gcp yes (the pool provider is the audience); azure yes (from the federated
--   credential definition); vault no (bound_audiences are not in the audit log)
-- description: The issuer is trusted but the token's audience is not one the policy
--   allows for it. Tokens minted for another relying party (a different cloud, a
--   Vault server, a custom audience) should not open this account.
-- message: {role_arn} was assumed with a {issuer} token for audience {audience};
--   allowed: {allowed_audiences}.
-- references: https://docs.github.com/en/actions/reference/security/oidc, https://openid.net/specs/openid-connect-core-1_0.html#IDToken
SELECT session_key, time, audience, allowed_audiences
FROM sessions
WHERE audience_allowed = false
