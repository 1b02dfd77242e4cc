-- case: lifecycle months_by_tenant: {'from': '2024-02-01', 'to': '2024-10-31', 'timezone': 'Europe/Paris', 'grain': 'month', 'breakdown': ['tenant']}
-- statement statuses
/* analysis lifecycle, statuses: 2024-02-01..2024-10-31 in Europe/Paris, all tenants */
WITH lifecycle_active /* lifecycle: the months each person was active in (from the month before the range), or 1970-01-01 for any time before; persons resolved through merges */ AS (
  SELECT
    tenant,
    who,
    period
  FROM (
    SELECT
      r.timestamp AS ts,
      COALESCE(o.person_id, r.person_id) AS who,
      r.tenant_id AS tenant,
      toStartOfMonth(toDate(r.timestamp, 'Europe/Paris')) AS period
    FROM events AS r
    LEFT JOIN person_overrides AS o
      ON o.old_person_id = r.person_id
    WHERE
      (
        r.timestamp >= toDateTime64('2023-12-31 23:00:00', 6, 'UTC')
        AND r.timestamp < toDateTime64('2024-10-31 23:00:00', 6, 'UTC')
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
    tenant,
    who,
    toDate('1970-01-01') AS period
  FROM (
    SELECT
      r.timestamp AS ts,
      COALESCE(o.person_id, r.person_id) AS who,
      r.tenant_id AS tenant
    FROM events AS r
    LEFT JOIN person_overrides AS o
      ON o.old_person_id = r.person_id
    WHERE
      (
        r.timestamp >= toDateTime64('1970-01-01 00:00:00', 6, 'UTC')
        AND r.timestamp < toDateTime64('2023-12-31 23:00:00', 6, 'UTC')
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
), lifecycle_neighbours /* lifecycle: each active month with the person's previous, next and first active one */ AS (
  SELECT
    tenant,
    who,
    period,
    lag(toNullable(period)) OVER (PARTITION BY tenant, who ORDER BY period) AS prev,
    lead(toNullable(period)) OVER (PARTITION BY tenant, who ORDER BY period) AS next,
    MIN(period) OVER (PARTITION BY tenant, who) AS first
  FROM lifecycle_active
), lifecycle_statuses /* lifecycle: each person's status in each month shown (dormant: active the month before, not in this one) */ AS (
  SELECT
    tenant,
    period,
    CASE
      WHEN period = first
      THEN 'new'
      WHEN addMonths(toStartOfMonth(prev), 1) = period
      THEN 'returning'
      ELSE 'resurrecting'
    END AS status
  FROM lifecycle_neighbours
  WHERE
    period >= toDate('2024-02-01')
  UNION ALL
  SELECT
    tenant,
    addMonths(toStartOfMonth(period), 1) AS gone_in,
    'dormant' AS status
  FROM lifecycle_neighbours
  WHERE
    (
      next IS NULL OR next <> addMonths(toStartOfMonth(period), 1)
    )
    AND addMonths(toStartOfMonth(period), 1) >= toDate('2024-02-01')
    AND addMonths(toStartOfMonth(period), 1) <= toDate('2024-10-01')
)
SELECT
  tenant,
  period,
  status,
  COUNT(*) AS persons
FROM lifecycle_statuses
GROUP BY
  tenant,
  period,
  status;
