"""DuckDB answering the question rolecall answers, for the benchmark.

Reads every CloudTrail file under DIR, keeps the AssumeRoleWithWebIdentity
exchanges, joins each issued key to the later calls made with it, and
returns the sessions whose key was used from more than one address.

    python3 tests/bench/duckdb_join.py DIR FORM

FORM is one of DuckDB's ways of reading JSON:
  objects   read_json_objects + json_extract_string (its fastest here)
  inferred  read_json with an inferred schema, then unnest(Records)
  declared  read_json with the needed columns declared as structs
Prints the number of sessions found (a check that both agree with rolecall).
"""
import sys

import duckdb

directory, form = sys.argv[1], sys.argv[2]
glob = f"{directory}/AWSLogs/**/*.json.gz"
con = duckdb.connect()
# DuckDB's own advice for large reads; order does not matter to the answer.
con.execute("SET preserve_insertion_order = false")
# A CloudTrail file is one JSON object; DuckDB sizes its read buffers (per
# thread) from this bound, so 1 GiB runs out of memory on 24 GiB. The
# generator's files are under 64 MiB uncompressed, as S3 delivers them.
MAX_OBJECT = 128 * 1024 * 1024

if form == "objects":
    records = f"""
        SELECT unnest(json_extract(json, '$.Records[*]')) AS r
        FROM read_json_objects('{glob}', format = 'auto', maximum_object_size = {MAX_OBJECT})
    """
    exchanges = """
        SELECT json_extract_string(r, '$.responseElements.credentials.accessKeyId') AS k,
               json_extract_string(r, '$.eventTime') AS t
        FROM recs WHERE json_extract_string(r, '$.eventName') = 'AssumeRoleWithWebIdentity'
          AND json_extract_string(r, '$.responseElements.credentials.accessKeyId') IS NOT NULL
    """
    calls = """
        SELECT json_extract_string(r, '$.userIdentity.accessKeyId') AS k,
               json_extract_string(r, '$.sourceIPAddress') AS ip,
               json_extract_string(r, '$.eventTime') AS t
        FROM recs WHERE json_extract_string(r, '$.userIdentity.accessKeyId') IS NOT NULL
    """
elif form == "inferred":
    records = f"""
        SELECT unnest(Records) AS r
        FROM read_json('{glob}', maximum_object_size = {MAX_OBJECT})
    """
    exchanges = """
        SELECT r.responseElements.credentials.accessKeyId AS k, r.eventTime AS t
        FROM recs WHERE r.eventName = 'AssumeRoleWithWebIdentity'
          AND r.responseElements.credentials.accessKeyId IS NOT NULL
    """
    calls = """
        SELECT r.userIdentity.accessKeyId AS k, r.sourceIPAddress AS ip, r.eventTime AS t
        FROM recs WHERE r.userIdentity.accessKeyId IS NOT NULL
    """
elif form == "declared":
    # The columns declared up front instead of inferred: only the fields
    # the question needs, the response as JSON (its shape varies by call).
    records = f"""
        SELECT unnest(Records) AS r
        FROM read_json('{glob}', maximum_object_size = {MAX_OBJECT}, columns = {{
            'Records': 'STRUCT(eventName VARCHAR, eventTime VARCHAR, sourceIPAddress VARCHAR,
                               userIdentity STRUCT(accessKeyId VARCHAR), responseElements JSON)[]'
        }})
    """
    exchanges = """
        SELECT json_extract_string(r.responseElements, '$.credentials.accessKeyId') AS k, r.eventTime AS t
        FROM recs WHERE r.eventName = 'AssumeRoleWithWebIdentity'
          AND json_extract_string(r.responseElements, '$.credentials.accessKeyId') IS NOT NULL
    """
    calls = """
        SELECT r.userIdentity.accessKeyId AS k, r.sourceIPAddress AS ip, r.eventTime AS t
        FROM recs WHERE r.userIdentity.accessKeyId IS NOT NULL
    """
else:
    sys.exit(f"unknown form {form}")

query = f"""
    WITH recs AS ({records}),
         ex AS ({exchanges}),
         calls AS ({calls})
    SELECT ex.k, count(DISTINCT calls.ip) AS ips
    FROM ex JOIN calls ON ex.k = calls.k AND calls.t >= ex.t
    GROUP BY ex.k
    HAVING count(DISTINCT calls.ip) > 1
"""
print(len(con.execute(query).fetchall()))
