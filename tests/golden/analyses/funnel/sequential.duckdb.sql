-- funnel
/* analysis funnel, funnel: 2024-03-01..2024-03-31 in UTC, all tenants */
WITH matched /* step and exclusion events from the range start to its end plus the window, one 0/1 flag per step (m) and exclusion (x), persons resolved through merges */ AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    r.id AS eid,
    CASE WHEN r.event = 'signed_up' THEN 1 ELSE 0 END AS m1,
    CASE WHEN r.event = 'page_created' THEN 1 ELSE 0 END AS m2,
    CASE WHEN r.event = 'page_shared' THEN 1 ELSE 0 END AS m3,
    CASE
      WHEN r.timestamp < CAST('2024-04-01 00:00:00+00' AS TIMESTAMPTZ)
      THEN 1
      ELSE 0
    END AS in_range
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= CAST('2024-03-01 00:00:00+00' AS TIMESTAMPTZ)
      AND r.timestamp < CAST('2024-04-15 00:00:00+00' AS TIMESTAMPTZ)
    )
    AND (
      r.event = 'signed_up' OR r.event = 'page_created' OR r.event = 'page_shared'
    )
), level_1 /* step-1 events in the range: each starts itself */ AS (
  SELECT
    who,
    ts,
    eid,
    ts AS start,
    eid AS start_eid
  FROM matched
  WHERE
    matched.m1 = 1 AND matched.in_range = 1
), level_2 /* step-2 events reachable from a start within the window, with the latest start */ AS (
  SELECT
    e.who,
    e.ts,
    e.eid,
    MAX(p.start) AS start,
    ARG_MAX(p.start_eid, (p.start, p.start_eid)) AS start_eid
  FROM matched AS e
  INNER JOIN level_1 AS p
    ON p.who = e.who
    AND (
      p.ts < e.ts OR (
        p.ts = e.ts AND p.eid < e.eid
      )
    )
    AND e.ts <= p.start + INTERVAL '1209600 seconds'
  WHERE
    e.m2 = 1
  GROUP BY
    e.who,
    e.ts,
    e.eid
), level_3 /* step-3 events reachable from a start within the window, with the latest start */ AS (
  SELECT
    e.who,
    e.ts,
    e.eid,
    MAX(p.start) AS start,
    ARG_MAX(p.start_eid, (p.start, p.start_eid)) AS start_eid
  FROM matched AS e
  INNER JOIN level_2 AS p
    ON p.who = e.who
    AND (
      p.ts < e.ts OR (
        p.ts = e.ts AND p.eid < e.eid
      )
    )
    AND e.ts <= p.start + INTERVAL '1209600 seconds'
  WHERE
    e.m3 = 1
  GROUP BY
    e.who,
    e.ts,
    e.eid
), furthest /* each person's furthest level, completed earliest, started latest */ AS (
  SELECT
    who,
    reach,
    done_ts,
    done_eid,
    start,
    start_eid
  FROM (
    SELECT
      *,
      ROW_NUMBER() OVER (PARTITION BY who ORDER BY reach DESC, done_ts, start DESC, start_eid DESC) AS nth
    FROM (
      SELECT
        who,
        2 AS reach,
        ts AS done_ts,
        eid AS done_eid,
        start,
        start_eid
      FROM level_2
      UNION ALL
      SELECT
        who,
        3 AS reach,
        ts AS done_ts,
        eid AS done_eid,
        start,
        start_eid
      FROM level_3
    ) AS levels
  ) AS ranked
  WHERE
    nth = 1
), entered /* persons entering the funnel: their first and last step-1 event in the range */ AS (
  SELECT
    who,
    MIN(ts) AS first_ts,
    MAX(ts) AS last_t1
  FROM level_1
  GROUP BY
    who
), path_1 /* the counted path's start: the latest start of the furthest level, else the first step-1 event */ AS (
  SELECT
    f.who,
    COALESCE(b.reach, 1) AS reach,
    f.last_t1,
    COALESCE(b.start, f.first_ts) AS t1,
    b.start_eid AS eid1
  FROM entered AS f
  LEFT JOIN furthest AS b
    ON b.who = f.who
), earliest_2 /* the earliest step-2 event of each latest start */ AS (
  SELECT
    who,
    start,
    start_eid,
    MIN(ts) AS first_ts
  FROM level_2
  GROUP BY
    who,
    start,
    start_eid
), path_2 /* counted paths up to step 2 */ AS (
  SELECT
    a.who AS who,
    a.reach AS reach,
    a.last_t1 AS last_t1,
    a.t1 AS t1,
    a.eid1 AS eid1,
    s.first_ts AS t2
  FROM path_1 AS a
  LEFT JOIN earliest_2 AS s
    ON s.who = a.who AND s.start = a.t1 AND s.start_eid = a.eid1
), earliest_3 /* the earliest step-3 event of each latest start */ AS (
  SELECT
    who,
    start,
    start_eid,
    MIN(ts) AS first_ts
  FROM level_3
  GROUP BY
    who,
    start,
    start_eid
), path_3 /* counted paths up to step 3 */ AS (
  SELECT
    a.who AS who,
    a.reach AS reach,
    a.last_t1 AS last_t1,
    a.t1 AS t1,
    a.eid1 AS eid1,
    a.t2 AS t2,
    s.first_ts AS t3
  FROM path_2 AS a
  LEFT JOIN earliest_3 AS s
    ON s.who = a.who AND s.start = a.t1 AND s.start_eid = a.eid1
), paths /* each person's counted path */ AS (
  SELECT
    who,
    reach,
    0 AS excluded,
    t1,
    t2,
    t3,
    CASE
      WHEN reach < 3
      THEN CAST('1970-01-01' AS DATE) + CAST(EPOCH_US(last_t1 + INTERVAL '1209600 seconds') // 86400000000 AS INT)
    END AS closes_on
  FROM path_3
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
      QUANTILE_CONT(since_first, 0.5) AS median,
      QUANTILE_CONT(since_first, 0.95) AS p95,
      AVG(since_prev) AS mean_step,
      QUANTILE_CONT(since_prev, 0.5) AS median_step,
      QUANTILE_CONT(since_prev, 0.95) AS p95_step
    FROM (
      SELECT
        step,
        CASE
          WHEN step = 2
          THEN DATE_DIFF('microsecond', t1, t2) / 1000000.0
          WHEN step = 3
          THEN DATE_DIFF('microsecond', t1, t3) / 1000000.0
        END AS since_first,
        CASE
          WHEN step = 2
          THEN DATE_DIFF('microsecond', t1, t2) / 1000000.0
          WHEN step = 3
          THEN DATE_DIFF('microsecond', t2, t3) / 1000000.0
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
