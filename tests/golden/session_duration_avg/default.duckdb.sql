-- case: session_duration_avg default: 2024-03-01..2024-03-31, day, Europe/Paris
/* metric session_duration_avg (average): Average session duration; 2024-03-01..2024-03-31 in Europe/Paris, grain day, all tenants */
WITH session_duration_avg_rows /* session_duration_avg: sessions in the range, persons resolved through merges */ AS (
  SELECT
    r.started_at AS ts,
    r.person_id AS who,
    CAST('1970-01-01' AS DATE) + CAST((
      EPOCH_US(r.started_at) + CASE
        WHEN EPOCH_US(r.started_at) < 1711846800000000
        THEN 3600000000
        ELSE 7200000000
      END
    ) // 86400000000 AS INT) AS bucket,
    r.duration_seconds AS v
  FROM sessions AS r
  WHERE
    r.started_at >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMPTZ)
    AND r.started_at < CAST('2024-03-31 22:00:00+00' AS TIMESTAMPTZ)
)
SELECT
  bucket,
  AVG(v) AS value
FROM session_duration_avg_rows
GROUP BY
  bucket
