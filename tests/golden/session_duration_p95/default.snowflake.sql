-- case: session_duration_p95 default: 2024-03-01..2024-03-31, day, Europe/Paris
/* metric session_duration_p95 (percentile): 95th percentile session duration; 2024-03-01..2024-03-31 in Europe/Paris, grain day, all tenants */
WITH session_duration_p95_rows /* session_duration_p95: sessions in the range, persons resolved through merges */ AS (
  SELECT
    r.started_at AS ts,
    r.person_id AS who,
    CAST(CONVERT_TIMEZONE('Europe/Paris', r.started_at) AS DATE) AS bucket,
    r.duration_seconds AS v
  FROM sessions AS r
  WHERE
    r.started_at >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMPTZ)
    AND r.started_at < CAST('2024-03-31 22:00:00+00' AS TIMESTAMPTZ)
)
SELECT
  bucket,
  PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY
    v) AS value
FROM session_duration_p95_rows
GROUP BY
  bucket
