-- case: bounce_rate default: 2024-03-01..2024-03-31, day, Europe/Paris
/* metric bounce_rate (ratio): Bounce rate; 2024-03-01..2024-03-31 in Europe/Paris, grain day, all tenants */
WITH bounced_sessions_rows /* bounced_sessions: sessions where (pageviews = 1 AND events = 1) OR duration_seconds < 10 in the range, persons resolved through merges */ AS (
  SELECT
    r.started_at AS ts,
    r.person_id AS who,
    DATE(r.started_at, 'Europe/Paris') AS bucket
  FROM sessions AS r
  WHERE
    (
      r.started_at >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMP)
      AND r.started_at < CAST('2024-03-31 22:00:00+00' AS TIMESTAMP)
    )
    AND (
      (
        r.pageviews = 1 AND r.events = 1
      ) OR r.duration_seconds < 10
    )
), bounced_sessions_value /* bounce_rate: part bounced_sessions (count) */ AS (
  SELECT
    bucket,
    COUNT(*) AS value
  FROM bounced_sessions_rows
  GROUP BY
    bucket
), sessions_rows /* sessions: sessions in the range, persons resolved through merges */ AS (
  SELECT
    r.started_at AS ts,
    r.person_id AS who,
    DATE(r.started_at, 'Europe/Paris') AS bucket
  FROM sessions AS r
  WHERE
    r.started_at >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMP)
    AND r.started_at < CAST('2024-03-31 22:00:00+00' AS TIMESTAMP)
), sessions_value /* bounce_rate: part sessions (count) */ AS (
  SELECT
    bucket,
    COUNT(*) AS value
  FROM sessions_rows
  GROUP BY
    bucket
), bounce_rate_parts /* bounce_rate: parts side by side */ AS (
  SELECT
    bucket,
    CAST(value AS FLOAT64) AS m_bounced_sessions,
    CAST(NULL AS FLOAT64) AS m_sessions
  FROM bounced_sessions_value
  UNION ALL
  SELECT
    bucket,
    CAST(NULL AS FLOAT64) AS m_bounced_sessions,
    CAST(value AS FLOAT64) AS m_sessions
  FROM sessions_value
)
SELECT
  bucket,
  COALESCE(MAX(m_bounced_sessions), 0) / NULLIF(COALESCE(MAX(m_sessions), 0), 0) AS value
FROM bounce_rate_parts
GROUP BY
  bucket
