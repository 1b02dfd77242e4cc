-- case: session_duration_p50 default: 2024-03-01..2024-03-31, day, Europe/Paris
/* metric session_duration_p50 (percentile): Median session duration; 2024-03-01..2024-03-31 in Europe/Paris, grain day, all tenants */
WITH session_duration_p50_rows /* session_duration_p50: sessions in the range, persons resolved through merges */ AS (
  SELECT
    r.started_at AS ts,
    r.person_id AS who,
    DATE(r.started_at, 'Europe/Paris') AS bucket,
    r.duration_seconds AS v
  FROM sessions AS r
  WHERE
    r.started_at >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMP)
    AND r.started_at < CAST('2024-03-31 22:00:00+00' AS TIMESTAMP)
), session_duration_p50_quantile /* session_duration_p50: exact quantile in each bucket (analytic form) */ AS (
  SELECT
    *,
    PERCENTILE_CONT(v, 0.5) OVER (PARTITION BY bucket) AS q
  FROM session_duration_p50_rows
)
SELECT
  bucket,
  MAX(q) AS value
FROM session_duration_p50_quantile
GROUP BY
  bucket
