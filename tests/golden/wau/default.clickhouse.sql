-- case: wau default: 2024-03-01..2024-03-31, day, Europe/Paris
/* metric wau (active_users): Weekly active users; 2024-03-01..2024-03-31 in Europe/Paris, grain day, all tenants */
WITH wau_rows /* wau: active events from 6 days before the range, persons resolved through merges */ AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    toDate(r.timestamp, 'Europe/Paris') AS day
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= toDateTime64('2024-02-23 23:00:00', 6, 'UTC')
      AND r.timestamp < toDateTime64('2024-03-31 22:00:00', 6, 'UTC')
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
), wau_days /* wau: distinct active days per person */ AS (
  SELECT DISTINCT
    who AS who,
    day
  FROM wau_rows
  WHERE
    NOT (
      who IS NULL
    )
), wau_previous /* wau: the previous active day of the same person */ AS (
  SELECT
    *,
    lag(toNullable(day)) OVER (PARTITION BY who ORDER BY day) AS previous
  FROM wau_days
), wau_spans /* wau: each active day counts for 7 day(s), clipped after the previous */ AS (
  SELECT
    who,
    CASE
      WHEN previous IS NULL OR addDays(previous, 6) < day
      THEN day
      ELSE addDays(previous, 7)
    END AS since,
    addDays(day, 6) AS until
  FROM wau_previous
), wau_changes /* wau: +1 where a span starts, -1 the day after it ends */ AS (
  SELECT
    since AS day,
    1 AS delta
  FROM wau_spans
  UNION ALL
  SELECT
    addDays(until, 1) AS day,
    -1 AS delta
  FROM wau_spans
), wau_calendar /* wau: every day of the range */ AS (
  SELECT
    addDays(toDate('2024-03-01'), number) AS day
  FROM numbers(31)
), wau_series /* wau: value on each day (running sum of changes) */ AS (
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
      FROM wau_changes
      UNION ALL
      SELECT
        day,
        0 AS delta
      FROM wau_calendar
    ) AS z
    WHERE
      day <= toDate('2024-03-31')
    GROUP BY
      day
  ) AS pd
)
SELECT
  day AS bucket,
  value
FROM wau_series
WHERE
  day >= toDate('2024-03-01')
