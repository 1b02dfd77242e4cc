-- case: north_star default: 2024-03-01..2024-03-31, day, Europe/Paris
/* metric north_star (active_users): Weekly active collaborative workspaces; 2024-03-01..2024-03-31 in Europe/Paris, grain day, all tenants */
WITH north_star_rows /* north_star: active events from 6 days before the range, persons resolved through merges */ AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    CAST('1970-01-01' AS DATE) + CAST((
      EPOCH_US(r.timestamp) + CASE
        WHEN EPOCH_US(r.timestamp) < 1711846800000000
        THEN 3600000000
        ELSE 7200000000
      END
    ) // 86400000000 AS INT) AS day,
    r.tenant_id AS tenant
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= CAST('2024-02-23 23:00:00+00' AS TIMESTAMPTZ)
      AND r.timestamp < CAST('2024-03-31 22:00:00+00' AS TIMESTAMPTZ)
    )
    AND r.event IN ('comment_added', 'member_invited', 'page_shared')
), north_star_days /* north_star: distinct active days per person */ AS (
  SELECT DISTINCT
    tenant,
    who AS who,
    day
  FROM north_star_rows
  WHERE
    NOT who IS NULL AND NOT tenant IS NULL
), north_star_previous /* north_star: the previous active day of the same person */ AS (
  SELECT
    *,
    LAG(day) OVER (PARTITION BY tenant, who ORDER BY day) AS previous
  FROM north_star_days
), north_star_spans /* north_star: each active day counts for 7 day(s), clipped after the previous */ AS (
  SELECT
    tenant,
    who,
    CASE WHEN previous IS NULL OR previous + 6 < day THEN day ELSE previous + 7 END AS since,
    day + 6 AS until
  FROM north_star_previous
), north_star_persons /* north_star: active persons per workspace from each change on */ AS (
  SELECT
    tenant,
    day,
    SUM(delta) OVER (PARTITION BY tenant ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS persons,
    LEAD(day) OVER (PARTITION BY tenant ORDER BY day) AS next_day
  FROM (
    SELECT
      tenant,
      day,
      SUM(delta) AS delta
    FROM (
      SELECT
        tenant,
        since AS day,
        1 AS delta
      FROM north_star_spans
      UNION ALL
      SELECT
        tenant,
        until + 1 AS day,
        -1 AS delta
      FROM north_star_spans
    ) AS pc
    GROUP BY
      tenant,
      day
  ) AS pd
), north_star_workspaces /* north_star: days with at least 2 active persons */ AS (
  SELECT
    tenant AS who,
    day AS since,
    next_day + -1 AS until
  FROM north_star_persons
  WHERE
    persons >= 2
), north_star_changes /* north_star: +1 where a span starts, -1 the day after it ends */ AS (
  SELECT
    since AS day,
    1 AS delta
  FROM north_star_workspaces
  UNION ALL
  SELECT
    until + 1 AS day,
    -1 AS delta
  FROM north_star_workspaces
), north_star_calendar /* north_star: every day of the range */ AS (
  SELECT
    CAST('2024-03-01' AS DATE) + CAST(i AS INT) AS day
  FROM RANGE(0, 31) AS n(i)
), north_star_series /* north_star: value on each day (running sum of changes) */ AS (
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
      FROM north_star_changes
      UNION ALL
      SELECT
        day,
        0 AS delta
      FROM north_star_calendar
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
FROM north_star_series
WHERE
  day >= CAST('2024-03-01' AS DATE)
