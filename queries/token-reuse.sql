-- id: token-reuse
-- title: One token exchanged from several addresses
-- severity: high
-- identity: evidence.token_key
-- needs: claims (a jti or iat identifies a token)
-- sources: aws yes (needs claims); gcp yes (needs claims and a known issuer); azure yes (needs
--   claims and the federated credential definitions); vault no (the audit log does not name the
--   issuer, so claims cannot be joined)
-- description: A single CI token (same jti, or same issuer, subject, audience and
--   iat) accounts for exchanges from two or more source addresses. A job
--   exchanges its token where it runs; the same token traded elsewhere was
--   replayed. Failed exchanges count too: a refused replay is still a replay.
-- message: One token for {subject} (jti {jti}, issued {token_iat}) was exchanged
--   {exchanges} times from {exchange_ips} addresses: {source_ips}.
-- references: https://attack.mitre.org/techniques/T1550/001/, https://datatracker.ietf.org/doc/html/rfc7519#section-4.1.7
SELECT token_key,
       MIN(session_key) AS session_key,
       MIN(time) AS time,
       MIN(subject) AS subject,
       MIN(role_arn) AS role,
       MIN(jti) AS jti,
       MIN(token_iat) AS token_iat,
       COUNT(*) AS exchanges,
       COUNT(DISTINCT source_ip) AS exchange_ips,
       ARRAY_AGG(DISTINCT source_ip) AS source_ips,
       ARRAY_AGG(event_id) AS event_ids
FROM assumptions
-- Only the tokens seen from two addresses are aggregated in full.
WHERE token_key IN (SELECT token_key
                    FROM assumptions
                    WHERE token_key IS NOT NULL AND source_ip IS NOT NULL
                    GROUP BY token_key
                    HAVING COUNT(DISTINCT source_ip) >= 2)
  AND source_ip IS NOT NULL
GROUP BY token_key
