-- case: sessions default: 2024-03-01..2024-03-31, day, Europe/Paris
/* metric sessions (count): Sessions; 2024-03-01..2024-03-31 in Europe/Paris, grain day, all tenants */
WITH sessions_rows /* sessions: sessions in the range, persons resolved through merges */ AS (
  SELECT
    r.started_at AS ts,
    r.person_id AS who,
    CAST(CONVERT_TIMEZONE('Europe/Paris', r.started_at) AS DATE) AS bucket
  FROM sessions AS r
  WHERE
    r.started_at >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMPTZ)
    AND r.started_at < CAST('2024-03-31 22:00:00+00' AS TIMESTAMPTZ)
)
SELECT
  bucket,
  COUNT(*) AS value
FROM sessions_rows
GROUP BY
  bucket
