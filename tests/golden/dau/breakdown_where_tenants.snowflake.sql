-- case: dau breakdown_where_tenants: 2024-03-01..2024-03-31, day, Europe/Paris; breakdown plan; where country IN ('FR', 'DE'); tenants t_acme, t_globex
/* metric dau (active_users): Daily active users; 2024-03-01..2024-03-31 in Europe/Paris, grain day, tenants t_acme, t_globex */
WITH dau_rows /* dau: active events from 0 days before the range, persons resolved through merges */ AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    r.plan AS plan,
    CAST(CONVERT_TIMEZONE('Europe/Paris', r.timestamp) AS DATE) AS day
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMPTZ)
      AND r.timestamp < CAST('2024-03-31 22:00:00+00' AS TIMESTAMPTZ)
    )
    AND r.tenant_id IN ('t_acme', 't_globex')
    AND NOT r.event IN (
      '$create_alias',
      '$feature_flag_called',
      '$groupidentify',
      '$identify',
      '$pageleave',
      '$set',
      'invoice_paid'
    )
    AND (
      r.country IN ('FR', 'DE')
    )
), dau_days /* dau: distinct active days per person */ AS (
  SELECT DISTINCT
    plan,
    who AS who,
    day
  FROM dau_rows
  WHERE
    NOT who IS NULL
), dau_spans /* dau: each active day counts for 1 day(s), clipped after the previous */ AS (
  SELECT
    plan,
    who,
    day AS since,
    DATEADD(DAY, 0, day) AS until
  FROM dau_days
), dau_changes /* dau: +1 where a span starts, -1 the day after it ends */ AS (
  SELECT
    plan,
    since AS day,
    1 AS delta
  FROM dau_spans
  UNION ALL
  SELECT
    plan,
    DATEADD(DAY, 1, until) AS day,
    -1 AS delta
  FROM dau_spans
), dau_calendar /* dau: every day of the range */ AS (
  SELECT
    DATEADD(DAY, ROW_NUMBER() OVER (ORDER BY SEQ4()) - 1, CAST('2024-03-01' AS DATE)) AS day
  FROM TABLE(GENERATOR(ROWCOUNT => 31))
), dau_series /* dau: value on each day (running sum of changes) */ AS (
  SELECT
    plan,
    day,
    SUM(delta) OVER (PARTITION BY plan ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS value
  FROM (
    SELECT
      plan,
      day,
      SUM(delta) AS delta
    FROM (
      SELECT
        plan,
        day,
        delta
      FROM dau_changes
      UNION ALL
      SELECT
        plan,
        day,
        0 AS delta
      FROM (
        SELECT DISTINCT
          plan
        FROM dau_changes
      ) AS s
      CROSS JOIN dau_calendar
    ) AS z
    WHERE
      day <= CAST('2024-03-31' AS DATE)
    GROUP BY
      plan,
      day
  ) AS pd
)
SELECT
  day AS bucket,
  plan,
  value
FROM dau_series
WHERE
  day >= CAST('2024-03-01' AS DATE)
