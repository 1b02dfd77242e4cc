-- case: bounced_sessions default: 2024-03-01..2024-03-31, day, Europe/Paris
/* metric bounced_sessions (count): Bounced sessions; 2024-03-01..2024-03-31 in Europe/Paris, grain day, all tenants */
WITH bounced_sessions_rows /* bounced_sessions: sessions where (pageviews = 1 AND events = 1) OR duration_seconds < 10 in the range, persons resolved through merges */ AS (
  SELECT
    r.started_at AS ts,
    r.person_id AS who,
    toDate(r.started_at, 'Europe/Paris') AS bucket
  FROM sessions AS r
  WHERE
    (
      r.started_at >= toDateTime64('2024-02-29 23:00:00', 6, 'UTC')
      AND r.started_at < toDateTime64('2024-03-31 22:00:00', 6, 'UTC')
    )
    AND (
      (
        r.pageviews = 1 AND r.events = 1
      ) OR r.duration_seconds < 10
    )
)
SELECT
  bucket,
  COUNT(*) AS value
FROM bounced_sessions_rows
GROUP BY
  bucket
