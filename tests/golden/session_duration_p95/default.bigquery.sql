-- case: session_duration_p95 default: 2024-03-01..2024-03-31, day, Europe/Paris
/* metric session_duration_p95 (percentile): 95th percentile session duration; 2024-03-01..2024-03-31 in Europe/Paris, grain day, all tenants */
WITH session_duration_p95_rows /* session_duration_p95: sessions in the range, persons resolved through merges */ AS (
  SELECT
    r.started_at AS ts,
    r.person_id AS who,
    DATE(r.started_at, 'Europe/Paris') AS bucket,
    r.duration_seconds AS v
  FROM sessions AS r
  WHERE
    r.started_at >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMP)
    AND r.started_at < CAST('2024-03-31 22:00:00+00' AS TIMESTAMP)
), session_duration_p95_quantile /* session_duration_p95: exact quantile in each bucket (analytic form) */ AS (
  SELECT
    *,
    PERCENTILE_CONT(v, 0.95) OVER (PARTITION BY bucket) AS q
  FROM session_duration_p95_rows
)
SELECT
  bucket,
  MAX(q) AS value
FROM session_duration_p95_quantile
GROUP BY
  bucket
