-- case: lifecycle default: {'from': '2024-03-01', 'to': '2024-04-06', 'timezone': 'Europe/Paris'}
-- statement statuses
/* analysis lifecycle, statuses: 2024-03-01..2024-04-06 in Europe/Paris, all tenants */
WITH lifecycle_active /* lifecycle: the weeks each person was active in (from the week before the range), or 1970-01-01 for any time before; persons resolved through merges */ AS (
  SELECT
    who,
    period
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
      ) // 86400000000 AS INT) + CAST(-(
        (
          CAST('1970-01-01' AS DATE) + CAST((
            EPOCH_US(r.timestamp) + CASE
              WHEN EPOCH_US(r.timestamp) < 1711846800000000
              THEN 3600000000
              ELSE 7200000000
            END
          ) // 86400000000 AS INT) - CAST('1970-01-01' AS DATE) + 10
        ) % 7
      ) AS INT) AS period
    FROM events AS r
    LEFT JOIN person_overrides AS o
      ON o.old_person_id = r.person_id
    WHERE
      (
        r.timestamp >= CAST('2024-02-18 23:00:00+00' AS TIMESTAMPTZ)
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
  ) AS rr
  UNION
  SELECT
    who,
    CAST('1970-01-01' AS DATE) AS period
  FROM (
    SELECT
      r.timestamp AS ts,
      COALESCE(o.person_id, r.person_id) AS who
    FROM events AS r
    LEFT JOIN person_overrides AS o
      ON o.old_person_id = r.person_id
    WHERE
      (
        r.timestamp >= CAST('1970-01-01 00:00:00+00' AS TIMESTAMPTZ)
        AND r.timestamp < CAST('2024-02-18 23:00:00+00' AS TIMESTAMPTZ)
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
  ) AS hr
), lifecycle_neighbours /* lifecycle: each active week with the person's previous, next and first active one */ AS (
  SELECT
    who,
    period,
    LAG(period) OVER (PARTITION BY who ORDER BY period) AS prev,
    LEAD(period) OVER (PARTITION BY who ORDER BY period) AS next,
    MIN(period) OVER (PARTITION BY who) AS first
  FROM lifecycle_active
), lifecycle_statuses /* lifecycle: each person's status in each week shown (dormant: active the week before, not in this one) */ AS (
  SELECT
    period,
    CASE
      WHEN period = first
      THEN 'new'
      WHEN prev + 7 = period
      THEN 'returning'
      ELSE 'resurrecting'
    END AS status
  FROM lifecycle_neighbours
  WHERE
    period >= CAST('2024-02-26' AS DATE)
  UNION ALL
  SELECT
    period + 7 AS gone_in,
    'dormant' AS status
  FROM lifecycle_neighbours
  WHERE
    (
      next IS NULL OR next <> period + 7
    )
    AND period + 7 >= CAST('2024-02-26' AS DATE)
    AND period + 7 <= CAST('2024-04-01' AS DATE)
)
SELECT
  period,
  status,
  COUNT(*) AS persons
FROM lifecycle_statuses
GROUP BY
  period,
  status;
