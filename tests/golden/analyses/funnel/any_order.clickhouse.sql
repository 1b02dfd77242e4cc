-- funnel
/* analysis funnel, funnel: 2024-03-01..2024-03-31 in UTC, all tenants */
WITH matched /* step and exclusion events from the range start to its end plus the window, one 0/1 flag per step (m) and exclusion (x), persons resolved through merges */ AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    r.id AS eid,
    CASE WHEN r.event = 'page_edited' THEN 1 ELSE 0 END AS m1,
    CASE WHEN r.event = 'page_edited' THEN 1 ELSE 0 END AS m2,
    CASE WHEN r.event = 'page_shared' THEN 1 ELSE 0 END AS m3,
    CASE
      WHEN r.timestamp < toDateTime64('2024-04-01 00:00:00', 6, 'UTC')
      THEN 1
      ELSE 0
    END AS in_range
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= toDateTime64('2024-03-01 00:00:00', 6, 'UTC')
      AND r.timestamp < toDateTime64('2024-04-15 00:00:00', 6, 'UTC')
    )
    AND (
      r.event = 'page_edited' OR r.event = 'page_edited' OR r.event = 'page_shared'
    )
), starts /* each start time: a step event in the range */ AS (
  SELECT DISTINCT
    who,
    ts AS start
  FROM matched
  WHERE
    in_range = 1 AND (
      m1 = 1 OR m2 = 1 OR m3 = 1
    )
), progress /* steps done by each step event within the window of each start */ AS (
  SELECT
    s.who,
    s.start,
    e.ts,
    COALESCE(
      LEAST(
        SUM(e.m1) OVER (
          PARTITION BY s.who, s.start
          ORDER BY e.ts, e.eid
          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ),
        2
      ),
      0
    ) + COALESCE(
      LEAST(
        SUM(e.m3) OVER (
          PARTITION BY s.who, s.start
          ORDER BY e.ts, e.eid
          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ),
        1
      ),
      0
    ) AS done,
    COALESCE(
      LEAST(
        SUM(e.m1) OVER (
          PARTITION BY s.who, s.start
          ORDER BY e.ts, e.eid
          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ),
        2
      ),
      0
    ) + COALESCE(
      LEAST(
        SUM(e.m3) OVER (
          PARTITION BY s.who, s.start
          ORDER BY e.ts, e.eid
          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ),
        1
      ),
      0
    ) AS done_before
  FROM starts AS s
  INNER JOIN matched AS e
    ON e.who = s.who AND e.ts >= s.start AND e.ts <= addSeconds(s.start, 1209600)
  WHERE
    e.m1 = 1 OR e.m2 = 1 OR e.m3 = 1
), attempts /* one attempt per start: how many steps are done within the window, and when */ AS (
  SELECT
    who,
    start AS p1,
    MIN(CASE WHEN done >= 1 AND done_before < 1 THEN ts END) AS t1,
    MIN(CASE WHEN done >= 2 AND done_before < 2 THEN ts END) AS t2,
    MIN(CASE WHEN done >= 3 AND done_before < 3 THEN ts END) AS t3,
    LEAST(MAX(done), 3) AS reach
  FROM progress
  GROUP BY
    who,
    start
), ranked /* attempts ranked per person: furthest step, not voided, earliest completion, latest start */ AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY who ORDER BY reach DESC, void, done, p1 DESC) AS rank,
    MAX(t1) OVER (PARTITION BY who) AS last_t1
  FROM (
    SELECT
      a.*,
      0 AS void,
      CASE WHEN a.reach = 3 THEN a.t3 WHEN a.reach = 2 THEN a.t2 ELSE a.t1 END AS done
    FROM attempts AS a
  ) AS scored
), paths /* each person's counted path; excluded when every attempt reaching their furthest step is voided */ AS (
  SELECT
    who,
    reach,
    void AS excluded,
    t1,
    t2,
    t3,
    CASE WHEN reach < 3 THEN toDate(addSeconds(last_t1, 1209600), 'UTC') END AS closes_on
  FROM ranked
  WHERE
    rank = 1
)
SELECT
  'count' AS part,
  reach,
  excluded,
  closes_on,
  persons,
  NULL AS total,
  NULL AS step,
  NULL AS mean,
  NULL AS median,
  NULL AS p95,
  NULL AS mean_step,
  NULL AS median_step,
  NULL AS p95_step
FROM (
  SELECT
    reach,
    excluded,
    closes_on,
    COUNT(*) AS persons
  FROM paths
  GROUP BY
    reach,
    excluded,
    closes_on
) AS counts
UNION ALL
SELECT
  'time' AS part,
  NULL AS reach,
  NULL AS excluded,
  NULL AS closes_on,
  persons,
  total,
  step,
  mean,
  median,
  p95,
  mean_step,
  median_step,
  p95_step
FROM (
  SELECT
    *
  FROM (
    SELECT
      0 AS total,
      step,
      COUNT(*) AS persons,
      AVG(since_first) AS mean,
      quantileExactInclusive(0.5)(since_first) AS median,
      quantileExactInclusive(0.95)(since_first) AS p95,
      AVG(since_prev) AS mean_step,
      quantileExactInclusive(0.5)(since_prev) AS median_step,
      quantileExactInclusive(0.95)(since_prev) AS p95_step
    FROM (
      SELECT
        step,
        CASE
          WHEN step = 2
          THEN dateDiff('microsecond', t1, t2) / 1000000.0
          WHEN step = 3
          THEN dateDiff('microsecond', t1, t3) / 1000000.0
        END AS since_first,
        CASE
          WHEN step = 2
          THEN dateDiff('microsecond', t1, t2) / 1000000.0
          WHEN step = 3
          THEN dateDiff('microsecond', t2, t3) / 1000000.0
        END AS since_prev
      FROM paths
      CROSS JOIN (
        SELECT
          2 AS step
        UNION ALL
        SELECT
          3 AS step
      ) AS steps
      WHERE
        excluded = 0 AND reach >= step
    ) AS spans
    GROUP BY
      step
  ) AS times
) AS times
