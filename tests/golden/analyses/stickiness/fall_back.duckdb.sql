-- case: stickiness fall_back: {'from': '2024-10-26', 'to': '2024-10-28', 'timezone': 'Europe/Paris'}
-- statement histogram
/* analysis stickiness, histogram: 2024-10-26..2024-10-28 in Europe/Paris, all tenants */
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
          WHEN EPOCH_US(r.timestamp) < 1729990800000000
          THEN 7200000000
          ELSE 3600000000
        END
      ) // 86400000000 AS INT) AS period
    FROM events AS r
    LEFT JOIN person_overrides AS o
      ON o.old_person_id = r.person_id
    WHERE
      (
        r.timestamp >= CAST('2024-10-25 22:00:00+00' AS TIMESTAMPTZ)
        AND r.timestamp < CAST('2024-10-28 23:00:00+00' AS TIMESTAMPTZ)
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
