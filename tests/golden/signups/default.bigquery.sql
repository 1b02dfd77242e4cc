-- case: signups default: 2024-03-01..2024-03-31, day, Europe/Paris
/* metric signups (count_distinct): Sign-ups; 2024-03-01..2024-03-31 in Europe/Paris, grain day, all tenants */
WITH signups_rows /* signups: events signed_up in the range, persons resolved through merges */ AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    DATE(r.timestamp, 'Europe/Paris') AS bucket,
    COALESCE(o.person_id, r.person_id) AS v
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMP)
      AND r.timestamp < CAST('2024-03-31 22:00:00+00' AS TIMESTAMP)
    )
    AND r.event IN ('signed_up')
)
SELECT
  bucket,
  COUNT(DISTINCT v) AS value
FROM signups_rows
GROUP BY
  bucket
