-- case: stickiness default: 2024-03-01..2024-03-31, day, Europe/Paris
/* metric stickiness (ratio): Stickiness (DAU/MAU); 2024-03-01..2024-03-31 in Europe/Paris, grain day, all tenants */
WITH dau_rows /* dau: active events from 29 days before the range, persons resolved through merges */ AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    CAST(CONVERT_TIMEZONE('Europe/Paris', r.timestamp) AS DATE) AS day
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
    DATEADD(DAY, 0, day) AS until
  FROM dau_days
), dau_changes /* dau: +1 where a span starts, -1 the day after it ends */ AS (
  SELECT
    since AS day,
    1 AS delta
  FROM dau_spans
  UNION ALL
  SELECT
    DATEADD(DAY, 1, until) AS day,
    -1 AS delta
  FROM dau_spans
), dau_calendar /* dau: every day of the range */ AS (
  SELECT
    DATEADD(DAY, ROW_NUMBER() OVER (ORDER BY SEQ4()) - 1, CAST('2024-03-01' AS DATE)) AS day
  FROM TABLE(GENERATOR(ROWCOUNT => 31))
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
), dau_value /* stickiness: part dau (active_users) */ AS (
  SELECT
    day AS bucket,
    value
  FROM dau_series
  WHERE
    day >= CAST('2024-03-01' AS DATE)
), mau_previous /* mau: the previous active day of the same person */ AS (
  SELECT
    *,
    LAG(day) OVER (PARTITION BY who ORDER BY day) AS previous
  FROM dau_days
), mau_spans /* mau: each active day counts for 30 day(s), clipped after the previous */ AS (
  SELECT
    who,
    CASE
      WHEN previous IS NULL OR DATEADD(DAY, 29, previous) < day
      THEN day
      ELSE DATEADD(DAY, 30, previous)
    END AS since,
    DATEADD(DAY, 29, day) AS until
  FROM mau_previous
), mau_changes /* mau: +1 where a span starts, -1 the day after it ends */ AS (
  SELECT
    since AS day,
    1 AS delta
  FROM mau_spans
  UNION ALL
  SELECT
    DATEADD(DAY, 1, until) AS day,
    -1 AS delta
  FROM mau_spans
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
      FROM dau_calendar
    ) AS z
    WHERE
      day <= CAST('2024-03-31' AS DATE)
    GROUP BY
      day
  ) AS pd
), mau_value /* stickiness: part mau (active_users) */ AS (
  SELECT
    day AS bucket,
    value
  FROM mau_series
  WHERE
    day >= CAST('2024-03-01' AS DATE)
), stickiness_parts /* stickiness: parts side by side */ AS (
  SELECT
    bucket,
    CAST(value AS DOUBLE) AS m_dau,
    CAST(NULL AS DOUBLE) AS m_mau
  FROM dau_value
  UNION ALL
  SELECT
    bucket,
    CAST(NULL AS DOUBLE) AS m_dau,
    CAST(value AS DOUBLE) AS m_mau
  FROM mau_value
)
SELECT
  bucket,
  COALESCE(MAX(m_dau), 0) / NULLIF(COALESCE(MAX(m_mau), 0), 0) AS value
FROM stickiness_parts
GROUP BY
  bucket
