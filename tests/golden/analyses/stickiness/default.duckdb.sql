-- case: stickiness default: {'from': '2024-03-01', 'to': '2024-04-06', 'timezone': 'Europe/Paris'}
-- statement histogram
/* analysis stickiness, histogram: 2024-03-01..2024-04-06 in Europe/Paris, all tenants */
SELECT
  periods,
  COUNT(*) AS persons
FROM (
  SELECT
    who,
    COUNT(DISTINCT period) AS periods
  FROM (
    SELECT
      r.timestamp AS ts,
      COALESCE(o.person_id, r.person_id) AS who,
      CAST('1970-01-01' AS DATE) + CAST((
        EPOCH_US(r.timestamp) + CASE
          WHEN EPOCH_US(r.timestamp) < 1711846800000000
          THEN 3600000000
          ELSE 7200000000
        END
      ) // 86400000000 AS INT) AS period
    FROM events AS r
    LEFT JOIN person_overrides AS o
      ON o.old_person_id = r.person_id
    WHERE
      (
        r.timestamp >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMPTZ)
        AND r.timestamp < CAST('2024-04-06 22:00:00+00' AS TIMESTAMPTZ)
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
  ) AS active
  GROUP BY
    who
) AS per_person
GROUP BY
  periods;
