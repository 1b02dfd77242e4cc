-- case: power_users default: 2024-03-01..2024-03-31, day, Europe/Paris
/* metric power_users (active_users): Power users; 2024-03-01..2024-03-31 in Europe/Paris, grain day, all tenants */
WITH power_users_rows /* power_users: active events from 27 days before the range, persons resolved through merges */ AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    CAST('1970-01-01' AS DATE) + CAST((
      EPOCH_US(r.timestamp) + CASE
        WHEN EPOCH_US(r.timestamp) < 1711846800000000
        THEN 3600000000
        ELSE 7200000000
      END
    ) // 86400000000 AS INT) AS day
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= CAST('2024-02-02 23:00:00+00' AS TIMESTAMPTZ)
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
), power_users_days /* power_users: distinct active days per person */ AS (
  SELECT DISTINCT
    who AS who,
    day
  FROM power_users_rows
  WHERE
    NOT who IS NULL
), power_users_reach /* power_users: each active day counts until this day */ AS (
  SELECT
    who,
    day,
    LAG(day, 15) OVER (PARTITION BY who ORDER BY day) + 27 AS until
  FROM power_users_days
), power_users_clipped /* power_users: spans clipped to start after the previous one */ AS (
  SELECT
    who,
    CASE
      WHEN LAG(until) OVER (PARTITION BY who ORDER BY day) IS NULL
      OR LAG(until) OVER (PARTITION BY who ORDER BY day) < day
      THEN day
      ELSE LAG(until) OVER (PARTITION BY who ORDER BY day) + 1
    END AS since,
    until
  FROM power_users_reach
), power_users_spans /* power_users: non-empty spans */ AS (
  SELECT
    *
  FROM power_users_clipped
  WHERE
    since <= until
), power_users_changes /* power_users: +1 where a span starts, -1 the day after it ends */ AS (
  SELECT
    since AS day,
    1 AS delta
  FROM power_users_spans
  UNION ALL
  SELECT
    until + 1 AS day,
    -1 AS delta
  FROM power_users_spans
), power_users_calendar /* power_users: every day of the range */ AS (
  SELECT
    CAST('2024-03-01' AS DATE) + CAST(i AS INT) AS day
  FROM RANGE(0, 31) AS n(i)
), power_users_series /* power_users: value on each day (running sum of changes) */ AS (
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
      FROM power_users_changes
      UNION ALL
      SELECT
        day,
        0 AS delta
      FROM power_users_calendar
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
FROM power_users_series
WHERE
  day >= CAST('2024-03-01' AS DATE)
