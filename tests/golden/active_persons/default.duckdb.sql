-- case: active_persons default: 2024-03-01..2024-03-31, day, Europe/Paris
/* metric active_persons (count_distinct): Active people; 2024-03-01..2024-03-31 in Europe/Paris, grain day, all tenants */
WITH active_persons_rows /* active_persons: events (active) in the range, persons resolved through merges */ AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    CAST('1970-01-01' AS DATE) + CAST((
      EPOCH_US(r.timestamp) + CASE
        WHEN EPOCH_US(r.timestamp) < 1711846800000000
        THEN 3600000000
        ELSE 7200000000
      END
    ) // 86400000000 AS INT) AS bucket,
    COALESCE(o.person_id, r.person_id) AS v
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMPTZ)
      AND r.timestamp < CAST('2024-03-31 22:00:00+00' AS TIMESTAMPTZ)
    )
    AND NOT r.event IN (
      '$create_alias',
      '$feature_flag_called',
      '$groupidentify',
      '$identify',
      '$pageleave',
      '$set',
      'invoice_paid'
    )
)
SELECT
  bucket,
  COUNT(DISTINCT v) AS value
FROM active_persons_rows
GROUP BY
  bucket
