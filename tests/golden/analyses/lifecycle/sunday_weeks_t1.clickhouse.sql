-- case: lifecycle sunday_weeks_t1: {'from': '2024-03-01', 'to': '2024-04-06', 'timezone': 'Europe/Paris', 'week_start': 'sunday', 'tenants': ['t1']}
-- statement statuses
/* analysis lifecycle, statuses: 2024-03-01..2024-04-06 in Europe/Paris, tenants t1 */
WITH lifecycle_active /* lifecycle: the weeks each person was active in (from the week before the range), or 1970-01-01 for any time before; persons resolved through merges */ AS (
  SELECT
    who,
    period
  FROM (
    SELECT
      r.timestamp AS ts,
      COALESCE(o.person_id, r.person_id) AS who,
      addDays(
        toDate(r.timestamp, 'Europe/Paris'),
        -(
          (
            toInt64(toRelativeDayNum(toDate(r.timestamp, 'Europe/Paris'))) + 4
          ) % 7
        )
      ) AS period
    FROM events AS r
    LEFT JOIN person_overrides AS o
      ON o.old_person_id = r.person_id
    WHERE
      (
        r.timestamp >= toDateTime64('2024-02-17 23:00:00', 6, 'UTC')
        AND r.timestamp < toDateTime64('2024-04-06 22:00:00', 6, 'UTC')
      )
      AND r.tenant_id IN ('t1')
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
        AND r.timestamp < toDateTime64('2024-02-17 23:00:00', 6, 'UTC')
      )
      AND r.tenant_id IN ('t1')
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
), lifecycle_neighbours /* lifecycle: each active week with the person's previous, next and first active one */ AS (
  SELECT
    who,
    period,
    lag(toNullable(period)) OVER (PARTITION BY who ORDER BY period) AS prev,
    lead(toNullable(period)) OVER (PARTITION BY who ORDER BY period) AS next,
    MIN(period) OVER (PARTITION BY who) AS first
  FROM lifecycle_active
), lifecycle_statuses /* lifecycle: each person's status in each week shown (dormant: active the week before, not in this one) */ AS (
  SELECT
    period,
    CASE
      WHEN period = first
      THEN 'new'
      WHEN addDays(prev, 7) = period
      THEN 'returning'
      ELSE 'resurrecting'
    END AS status
  FROM lifecycle_neighbours
  WHERE
    period >= toDate('2024-02-25')
  UNION ALL
  SELECT
    addDays(period, 7) AS gone_in,
    'dormant' AS status
  FROM lifecycle_neighbours
  WHERE
    (
      next IS NULL OR next <> addDays(period, 7)
    )
    AND addDays(period, 7) >= toDate('2024-02-25')
    AND addDays(period, 7) <= toDate('2024-03-31')
)
SELECT
  period,
  status,
  COUNT(*) AS persons
FROM lifecycle_statuses
GROUP BY
  period,
  status;
