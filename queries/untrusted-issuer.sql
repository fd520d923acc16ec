-- id: untrusted-issuer
-- title: Token from an issuer the policy does not trust
-- severity: high
-- identity: role, issuer
-- needs: policy [[issuer]] entries
-- sources: aws yes (the OIDC provider ARN names the issuer); gcp yes (with [[gcp_provider]]
--   mapping the pool provider; an issuer inferred from the subject is not judged); azure yes
--   (the federated credential definition names the issuer); vault no (the audit log does not
--   name the issuer)
-- description: The policy lists trusted OIDC issuers and this exchange used another.
--   The cloud account trusts an identity provider the security team did not
--   sanction: a leftover, a test provider, or one added by an attacker.
-- message: {role_arn} was assumed with a token from {issuer}, which the policy does not
--   list (trusted: {listed_issuers}).
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html, https://attack.mitre.org/techniques/T1484/002/
SELECT session_key, time, issuer, listed_issuers
FROM sessions
WHERE issuer_listed = false
