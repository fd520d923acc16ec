-- id: credential-use-after-job
-- title: Session credentials used after the CI run ended
-- severity: high
-- identity: session_key
-- needs: claims with a run id and workflow_job payloads
-- sources: aws yes (needs claims with a run id and workflow_job payloads); gcp yes (needs
--   claims with a run id and workflow_job payloads); azure yes (needs claims with a run id and
--   workflow_job payloads); vault yes (needs claims with a run id and workflow_job payloads)
-- description: The issued key was used after its CI run's last job completed, plus
--   settings.job_grace. A runner's credentials die with the job; a key still in
--   use afterwards was copied out of it. Calls made by AWS services on the
--   session's behalf are not counted.
-- message: The key {access_key_id} of {repository} run {run_id} was used {calls} times
--   after the run ended at {run_end}, last at {last_seen}.
-- references: https://attack.mitre.org/techniques/T1528/, https://attack.mitre.org/techniques/T1550/001/
SELECT a.session_key,
       MIN(a.time) AS time,
       MAX(a.time) AS last_seen,
       COUNT(*) AS calls,
       ARRAY_AGG(DISTINCT a.source_ip) AS source_ips,
       ARRAY_AGG(a.event_id) AS event_ids,
       MIN(s.run_end) AS run_end,
       MIN(s.run_deadline) AS run_deadline
FROM activity a
JOIN sessions s ON a.session_key = s.session_key
WHERE s.run_deadline IS NOT NULL
  AND a.time > s.run_deadline
  AND a.via_service = false
GROUP BY a.session_key
