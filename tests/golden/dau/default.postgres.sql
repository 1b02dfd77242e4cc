-- case: dau default: 2024-03-01..2024-03-31, day, Europe/Paris
/* metric dau (active_users): Daily active users; 2024-03-01..2024-03-31 in Europe/Paris, grain day, all tenants */
WITH dau_rows /* dau: active events from 0 days before the range, persons resolved through merges */ AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    CAST(r.timestamp AT TIME ZONE 'Europe/Paris' AS DATE) AS day
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
), dau_days /* dau: distinct active days per person */ AS (
  SELECT DISTINCT
    who AS who,
    day
  FROM dau_rows
  WHERE
    NOT who IS NULL
), dau_spans /* dau: each active day counts for 1 day(s), clipped after the previous */ AS (
  SELECT
    who,
    day AS since,
    day + 0 AS until
  FROM dau_days
), dau_changes /* dau: +1 where a span starts, -1 the day after it ends */ AS (
  SELECT
    since AS day,
    1 AS delta
  FROM dau_spans
  UNION ALL
  SELECT
    until + 1 AS day,
    -1 AS delta
  FROM dau_spans
), dau_calendar /* dau: every day of the range */ AS (
  SELECT
    CAST('2024-03-01' AS DATE) + CAST(i AS INT) AS day
  FROM GENERATE_SERIES(0, 30) AS n(i)
), dau_series /* dau: value on each day (running sum of changes) */ AS (
  SELECT
    day,
    SUM(delta) OVER (ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS value
  FROM (
    SELECT
      day,
      SUM(delta) AS delta
    FROM (
      SELECT
        day,
        delta
      FROM dau_changes
      UNION ALL
      SELECT
        day,
        0 AS delta
      FROM dau_calendar
    ) AS z
    WHERE
      day <= CAST('2024-03-31' AS DATE)
    GROUP BY
      day
  ) AS pd
)
SELECT
  day AS bucket,
  value
FROM dau_series
WHERE
  day >= CAST('2024-03-01' AS DATE)
