-- funnel
/* analysis funnel, funnel: 2024-03-01..2024-03-31 in UTC, all tenants */
WITH matched /* step and exclusion events from the range start to its end plus the window, one 0/1 flag per step (m) and exclusion (x), persons resolved through merges */ AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    r.id AS eid,
    CASE WHEN r.event = 'signed_up' THEN 1 ELSE 0 END AS m1,
    CASE WHEN r.event = 'page_created' THEN 1 ELSE 0 END AS m2,
    CASE
      WHEN r.timestamp < toDateTime64('2024-04-01 00:00:00', 6, 'UTC')
      THEN 1
      ELSE 0
    END AS in_range
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    r.timestamp >= toDateTime64('2024-03-01 00:00:00', 6, 'UTC')
    AND r.timestamp < toDateTime64('2024-04-15 00:00:00', 6, 'UTC')
), ordered /* each person's events in (timestamp, event id) order */ AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY who ORDER BY ts, eid) AS pos
  FROM matched
), following /* the person's first step-1 event in the range */ AS (
  SELECT
    *,
    MIN(CASE WHEN m1 = 1 AND in_range = 1 THEN pos END) OVER (PARTITION BY who) AS first1
  FROM ordered
), attempts /* one attempt per step-1 event in the range; step k is the person's very next event, if it is step k, within the window */ AS (
  SELECT
    s1.who AS who,
    s1.pos AS p1,
    s1.ts AS t1,
    s2.ts AS t2,
    CASE WHEN NOT (
      s2.pos IS NULL
    ) THEN 2 ELSE 1 END AS reach
  FROM following AS s1
  LEFT JOIN following AS s2
    ON s2.who = s1.who
    AND (
      s2.pos = s1.pos + 1 AND s2.m2 = 1
    )
    AND s2.ts <= addSeconds(s1.ts, 1209600)
  WHERE
    s1.m1 = 1 AND s1.in_range = 1 AND s1.pos = s1.first1
), ranked /* attempts ranked per person: furthest step, not voided, earliest completion, latest start */ AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY who ORDER BY reach DESC, void, done, p1 DESC) AS rank,
    MAX(t1) OVER (PARTITION BY who) AS last_t1
  FROM (
    SELECT
      a.*,
      0 AS void,
      CASE WHEN a.reach = 2 THEN a.t2 ELSE a.t1 END AS done
    FROM attempts AS a
  ) AS scored
), paths /* each person's counted path; excluded when every attempt reaching their furthest step is voided */ AS (
  SELECT
    who,
    reach,
    void AS excluded,
    t1,
    t2,
    CASE WHEN reach < 2 THEN toDate(addSeconds(last_t1, 1209600), 'UTC') END AS closes_on
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
        CASE WHEN step = 2 THEN dateDiff('microsecond', t1, t2) / 1000000.0 END AS since_first,
        CASE WHEN step = 2 THEN dateDiff('microsecond', t1, t2) / 1000000.0 END AS since_prev
      FROM paths
      CROSS JOIN (
        SELECT
          2 AS step
      ) AS steps
      WHERE
        excluded = 0 AND reach >= step
    ) AS spans
    GROUP BY
      step
  ) AS times
) AS times
