-- id: sensitive-action
-- title: CI session performed a sensitive action
-- severity: high
-- identity: role, repository, evidence.action
-- needs: the audit log only
-- sources: aws yes (CloudTrail); gcp yes (Cloud Audit Logs (Admin Activity)); azure yes (needs
--   the Activity Log); vault yes (sys/audit, sys/policies, sys/auth, auth/token/create...)
-- description: A federated CI session called an identity or policy write (new users,
--   access keys, role policies, trust policies), tampered with the audit trail
--   (StopLogging, DeleteTrail, DeleteFlowLogs, GuardDuty DeleteDetector, ...) or
--   destroyed keys (KMS ScheduleKeyDeletion, DisableKey). Attempts that AWS denied
--   count too. The list is the sensitive_actions table; the policy's
--   [sensitive_actions] adds to and removes from it.
-- message: The {repository} session on {role_arn} called {action} on {service} ({category};
--   calls: {calls}, denied: {failed_calls}).
-- references: https://attack.mitre.org/techniques/T1098/, https://attack.mitre.org/techniques/T1562/008/, https://attack.mitre.org/techniques/T1485/
SELECT a.session_key,
       a.service,
       a.action,
       x.category,
       MIN(a.time) AS time,
       COUNT(*) AS calls,
       SUM(CASE WHEN a.error_code IS NULL THEN 0 ELSE 1 END) AS failed_calls,
       ARRAY_AGG(DISTINCT a.source_ip) AS source_ips,
       ARRAY_AGG(a.event_id) AS event_ids
FROM activity a
JOIN sensitive_actions x ON a.service = x.service AND a.action = x.action
GROUP BY a.session_key, a.service, a.action, x.category
