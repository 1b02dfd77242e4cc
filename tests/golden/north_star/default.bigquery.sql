-- case: north_star default: 2024-03-01..2024-03-31, day, Europe/Paris
/* metric north_star (active_users): Weekly active collaborative workspaces; 2024-03-01..2024-03-31 in Europe/Paris, grain day, all tenants */
WITH north_star_rows /* north_star: active events from 6 days before the range, persons resolved through merges */ AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    DATE(r.timestamp, 'Europe/Paris') AS day,
    r.tenant_id AS tenant
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= CAST('2024-02-23 23:00:00+00' AS TIMESTAMP)
      AND r.timestamp < CAST('2024-03-31 22:00:00+00' AS TIMESTAMP)
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
    LAG(day) OVER (PARTITION BY tenant, who ORDER BY day NULLS LAST) AS previous
  FROM north_star_days
), north_star_spans /* north_star: each active day counts for 7 day(s), clipped after the previous */ AS (
  SELECT
    tenant,
    who,
    CASE
      WHEN previous IS NULL OR DATE_ADD(previous, INTERVAL 6 DAY) < day
      THEN day
      ELSE DATE_ADD(previous, INTERVAL 7 DAY)
    END AS since,
    DATE_ADD(day, INTERVAL 6 DAY) AS until
  FROM north_star_previous
), north_star_persons /* north_star: active persons per workspace from each change on */ AS (
  SELECT
    tenant,
    day,
    SUM(delta) OVER (PARTITION BY tenant ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS persons,
    LEAD(day) OVER (PARTITION BY tenant ORDER BY day NULLS LAST) AS next_day
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
        DATE_ADD(until, INTERVAL 1 DAY) AS day,
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
    DATE_ADD(next_day, INTERVAL -1 DAY) AS until
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
    DATE_ADD(until, INTERVAL 1 DAY) AS day,
    -1 AS delta
  FROM north_star_workspaces
), north_star_calendar /* north_star: every day of the range */ AS (
  SELECT
    day
  FROM UNNEST(GENERATE_DATE_ARRAY(CAST('2024-03-01' AS DATE), CAST('2024-03-31' AS DATE)))
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
