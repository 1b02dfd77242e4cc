-- case: stickiness weeks_sunday_by_plan: {'from': '2024-03-01', 'to': '2024-04-06', 'timezone': 'Europe/Paris', 'unit': 'week', 'week_start': 'sunday', 'breakdown': 'plan'}
-- statement histogram
/* analysis stickiness, histogram: 2024-03-01..2024-04-06 in Europe/Paris, all tenants */
SELECT
  plan,
  periods,
  COUNT(*) AS persons
FROM (
  SELECT
    plan,
    who,
    COUNT(DISTINCT period) AS periods
  FROM (
    SELECT
      r.timestamp AS ts,
      COALESCE(o.person_id, r.person_id) AS who,
      r.plan AS plan,
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
        r.timestamp >= toDateTime64('2024-02-29 23:00:00', 6, 'UTC')
        AND r.timestamp < toDateTime64('2024-04-06 22:00:00', 6, 'UTC')
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
  ) AS active
  GROUP BY
    plan,
    who
) AS per_person
GROUP BY
  plan,
  periods;
