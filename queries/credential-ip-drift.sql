-- id: credential-ip-drift
-- title: Session credentials used from a foreign address
-- severity: critical
-- identity: session_key, source_ip
-- needs: the audit log only
-- sources: aws yes (sourceIPAddress); gcp yes (requestMetadata.callerIp); azure yes (sign-in
--   ipAddress against Activity Log callerIpAddress); vault yes (request.remote_address)
-- description: The access key issued by the exchange was used from a source address
--   other than the one that exchanged the token and outside the role's
--   source_cidrs. A runner uses its credentials from where it runs; another
--   address means the key left the runner. AWS services acting for the session
--   (invokedBy, service names, AWS Internal) are not counted. One finding per
--   foreign address.
-- message: The key {access_key_id} issued to {repository} at {exchange_ip} was used from
--   {source_ip} ({calls} calls: {actions}).
-- references: https://attack.mitre.org/techniques/T1550/001/, https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourceip
SELECT a.session_key,
       a.source_ip,
       MIN(a.time) AS time,
       MAX(a.time) AS last_seen,
       COUNT(*) AS calls,
       ARRAY_AGG(DISTINCT a.action) AS actions,
       ARRAY_AGG(a.event_id) AS event_ids,
       MIN(s.source_ip) AS exchange_ip,
       MIN(s.source_cidrs) AS allowed_cidrs
FROM activity a
JOIN sessions s ON a.session_key = s.session_key
WHERE a.ip_allowed = false
GROUP BY a.session_key, a.source_ip
