-- case: mau default: 2024-03-01..2024-03-31, day, Europe/Paris
/* metric mau (active_users): Monthly active users; 2024-03-01..2024-03-31 in Europe/Paris, grain day, all tenants */
WITH mau_rows /* mau: active events from 29 days before the range, persons resolved through merges */ AS (
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
      r.timestamp >= CAST('2024-01-31 23:00:00+00' AS TIMESTAMPTZ)
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
), mau_days /* mau: distinct active days per person */ AS (
  SELECT DISTINCT
    who AS who,
    day
  FROM mau_rows
  WHERE
    NOT who IS NULL
), mau_previous /* mau: the previous active day of the same person */ AS (
  SELECT
    *,
    LAG(day) OVER (PARTITION BY who ORDER BY day) AS previous
  FROM mau_days
), mau_spans /* mau: each active day counts for 30 day(s), clipped after the previous */ AS (
  SELECT
    who,
    CASE WHEN previous IS NULL OR previous + 29 < day THEN day ELSE previous + 30 END AS since,
    day + 29 AS until
  FROM mau_previous
), mau_changes /* mau: +1 where a span starts, -1 the day after it ends */ AS (
  SELECT
    since AS day,
    1 AS delta
  FROM mau_spans
  UNION ALL
  SELECT
    until + 1 AS day,
    -1 AS delta
  FROM mau_spans
), mau_calendar /* mau: every day of the range */ AS (
  SELECT
    CAST('2024-03-01' AS DATE) + CAST(i AS INT) AS day
  FROM RANGE(0, 31) AS n(i)
), mau_series /* mau: value on each day (running sum of changes) */ AS (
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
      FROM mau_changes
      UNION ALL
      SELECT
        day,
        0 AS delta
      FROM mau_calendar
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
FROM mau_series
WHERE
  day >= CAST('2024-03-01' AS DATE)
