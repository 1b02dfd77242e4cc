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
      CAST(DATE_TRUNC(
        'month',
        CAST('1970-01-01' AS DATE) + CAST((
          EPOCH_US(r.timestamp) + CASE
            WHEN EPOCH_US(r.timestamp) < 1711846800000000
            THEN 3600000000
            WHEN EPOCH_US(r.timestamp) < 1729990800000000
            THEN 7200000000
            ELSE 3600000000
          END
        ) // 86400000000 AS INT)
      ) AS DATE) AS period
    FROM events AS r
    LEFT JOIN person_overrides AS o
      ON o.old_person_id = r.person_id
    WHERE
      (
        r.timestamp >= CAST('2023-12-31 23:00:00+00' AS TIMESTAMPTZ)
        AND r.timestamp < CAST('2024-10-31 23:00:00+00' AS TIMESTAMPTZ)
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
    tenant,
    who,
    CAST('1970-01-01' AS DATE) AS period
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
        r.timestamp >= CAST('1970-01-01 00:00:00+00' AS TIMESTAMPTZ)
        AND r.timestamp < CAST('2023-12-31 23:00:00+00' AS TIMESTAMPTZ)
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
), lifecycle_neighbours /* lifecycle: each active month with the person's previous, next and first active one */ AS (
  SELECT
    tenant,
    who,
    period,
    LAG(period) OVER (PARTITION BY tenant, who ORDER BY period) AS prev,
    LEAD(period) OVER (PARTITION BY tenant, who ORDER BY period) AS next,
    MIN(period) OVER (PARTITION BY tenant, who) AS first
  FROM lifecycle_active
), lifecycle_statuses /* lifecycle: each person's status in each month shown (dormant: active the month before, not in this one) */ AS (
  SELECT
    tenant,
    period,
    CASE
      WHEN period = first
      THEN 'new'
      WHEN CAST(CAST(DATE_TRUNC('month', prev) AS DATE) + INTERVAL '1 month' AS DATE) = period
      THEN 'returning'
      ELSE 'resurrecting'
    END AS status
  FROM lifecycle_neighbours
  WHERE
    period >= CAST('2024-02-01' AS DATE)
  UNION ALL
  SELECT
    tenant,
    CAST(CAST(DATE_TRUNC('month', period) AS DATE) + INTERVAL '1 month' AS DATE) AS gone_in,
    'dormant' AS status
  FROM lifecycle_neighbours
  WHERE
    (
      next IS NULL
      OR next <> CAST(CAST(DATE_TRUNC('month', period) AS DATE) + INTERVAL '1 month' AS DATE)
    )
    AND CAST(CAST(DATE_TRUNC('month', period) AS DATE) + INTERVAL '1 month' AS DATE) >= CAST('2024-02-01' AS DATE)
    AND CAST(CAST(DATE_TRUNC('month', period) AS DATE) + INTERVAL '1 month' AS DATE) <= CAST('2024-10-01' AS DATE)
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
