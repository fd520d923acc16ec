-- id: unmatched-assumption
-- title: Exchange with no matching CI token
-- severity: low
-- identity: role, subject
-- needs: claims for the issuer
-- sources: aws yes (needs claims); gcp yes (needs claims and a known issuer); azure yes (needs
--   claims and the federated credential definitions); vault no (the audit log does not name the
--   issuer, so claims cannot be joined)
-- description: Claims were given for this issuer, but no token among them accounts for
--   this successful exchange (same issuer, subject and audience, inside the
--   token's lifetime). Either the claims collection has gaps, or a token minted
--   outside the CI runs you record was traded for credentials.
-- message: {role_arn} was assumed by {subject} from {source_ip}, but none of the {issuer}
--   tokens given accounts for it.
-- references: https://docs.github.com/en/actions/reference/security/oidc
SELECT session_key, time, match
FROM sessions
WHERE claims_for_issuer = true AND match IN ('derived', 'none')
