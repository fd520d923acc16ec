"""Runs rolecall's detections on Apache Spark (local mode) over a dataset
`rolecall export --parquet` wrote, and writes each query's result rows as
JSON lines, for `rolecall scan --from-parquet DIR --query-results OUT`.

    python3 tests/spark/run_queries.py DATASET QUERIES_DIR OUT_DIR

The same files serve a real cluster: register each table directory as a
Parquet table (Hive partitions, partition column types not inferred), run
each queries/*.sql through `rewrite`, and write the rows as JSON lines.
"""
import datetime
import json
import os
import re
import sys

from pyspark.sql import SparkSession


def rewrite(sql):
    """The per-dialect rewrite for Spark SQL: none is needed today (Spark
    has ARRAY_AGG, ARRAY_AGG(DISTINCT ...), and the subset's joins,
    filters and aggregates). Kept as the one place to add one."""
    return sql


def strip_header(text):
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--")).strip()


def jsonable(value):
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def main():
    dataset, queries_dir, out_dir = sys.argv[1:4]
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("rolecall-detections")
        .config("spark.sql.session.timeZone", "UTC")
        # Partition values are identifiers (12-digit accounts keep their
        # leading zeros): strings, as the manifest says.
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    with open(os.path.join(dataset, "_rolecall.json")) as f:
        manifest = json.load(f)
    for table in manifest["tables"]:
        path = os.path.join(dataset, table)
        spark.read.option("basePath", path).parquet(path).createOrReplaceTempView(table)
    os.makedirs(out_dir, exist_ok=True)
    for name in sorted(os.listdir(queries_dir)):
        if not name.endswith(".sql"):
            continue
        with open(os.path.join(queries_dir, name)) as f:
            text = f.read()
        match = re.search(r"^--\s*id:\s*(\S+)", text, re.M)
        qid = match.group(1) if match else name[:-4]
        rows = spark.sql(rewrite(strip_header(text))).collect()
        with open(os.path.join(out_dir, qid + ".jsonl"), "w") as out:
            for row in rows:
                out.write(json.dumps({k: jsonable(v) for k, v in row.asDict().items()}) + "\n")
        print(f"{qid}: {len(rows)} rows", file=sys.stderr)
    spark.stop()


if __name__ == "__main__":
    main()
