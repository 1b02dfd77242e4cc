-- case: signups hour: 2024-03-30..2024-03-31, hour, Europe/Paris
/* metric signups (count_distinct): Sign-ups; 2024-03-30..2024-03-31 in Europe/Paris, grain hour, all tenants */
WITH signups_rows /* signups: events signed_up in the range, persons resolved through merges */ AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    toDateTime64(toString(toStartOfHour(toTimeZone(r.timestamp, 'Europe/Paris'))), 0, 'UTC') AS bucket,
    COALESCE(o.person_id, r.person_id) AS v
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= toDateTime64('2024-03-29 23:00:00', 6, 'UTC')
      AND r.timestamp < toDateTime64('2024-03-31 22:00:00', 6, 'UTC')
    )
    AND r.event IN ('signed_up')
)
SELECT
  bucket,
  COUNT(DISTINCT v) AS value
FROM signups_rows
GROUP BY
  bucket
