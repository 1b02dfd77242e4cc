-- case: lifecycle fall_back_days: {'from': '2024-10-26', 'to': '2024-10-28', 'timezone': 'Europe/Paris', 'grain': 'day'}
-- statement statuses
/* analysis lifecycle, statuses: 2024-10-26..2024-10-28 in Europe/Paris, all tenants */
WITH lifecycle_active /* lifecycle: the days each person was active in (from the day before the range), or 1970-01-01 for any time before; persons resolved through merges */ AS (
  SELECT
    who,
    period
  FROM (
    SELECT
      r.timestamp AS ts,
      COALESCE(o.person_id, r.person_id) AS who,
      toDate(r.timestamp, 'Europe/Paris') AS period
    FROM events AS r
    LEFT JOIN person_overrides AS o
      ON o.old_person_id = r.person_id
    WHERE
      (
        r.timestamp >= toDateTime64('2024-10-24 22:00:00', 6, 'UTC')
        AND r.timestamp < toDateTime64('2024-10-28 23:00:00', 6, 'UTC')
      )
      AND NOT (
        r.event IN (
          '$create_alias',
          '$feature_flag_called',
          '$groupidentify',
          '$identify',
          '$pageleave',
          '$set',
          'invoice_paid'
        )
      )
  ) AS rr
  UNION DISTINCT
  SELECT
    who,
    toDate('1970-01-01') AS period
  FROM (
    SELECT
      r.timestamp AS ts,
      COALESCE(o.person_id, r.person_id) AS who
    FROM events AS r
    LEFT JOIN person_overrides AS o
      ON o.old_person_id = r.person_id
    WHERE
      (
        r.timestamp >= toDateTime64('1970-01-01 00:00:00', 6, 'UTC')
        AND r.timestamp < toDateTime64('2024-10-24 22:00:00', 6, 'UTC')
      )
      AND NOT (
        r.event IN (
          '$create_alias',
          '$feature_flag_called',
          '$groupidentify',
          '$identify',
          '$pageleave',
          '$set',
          'invoice_paid'
        )
      )
  ) AS hr
), lifecycle_neighbours /* lifecycle: each active day with the person's previous, next and first active one */ AS (
  SELECT
    who,
    period,
    lag(toNullable(period)) OVER (PARTITION BY who ORDER BY period) AS prev,
    lead(toNullable(period)) OVER (PARTITION BY who ORDER BY period) AS next,
    MIN(period) OVER (PARTITION BY who) AS first
  FROM lifecycle_active
), lifecycle_statuses /* lifecycle: each person's status in each day shown (dormant: active the day before, not in this one) */ AS (
  SELECT
    period,
    CASE
      WHEN period = first
      THEN 'new'
      WHEN addDays(prev, 1) = period
      THEN 'returning'
      ELSE 'resurrecting'
    END AS status
  FROM lifecycle_neighbours
  WHERE
    period >= toDate('2024-10-26')
  UNION ALL
  SELECT
    addDays(period, 1) AS gone_in,
    'dormant' AS status
  FROM lifecycle_neighbours
  WHERE
    (
      next IS NULL OR next <> addDays(period, 1)
    )
    AND addDays(period, 1) >= toDate('2024-10-26')
    AND addDays(period, 1) <= toDate('2024-10-28')
)
SELECT
  period,
  status,
  COUNT(*) AS persons
FROM lifecycle_statuses
GROUP BY
  period,
  status;
