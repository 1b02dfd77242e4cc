-- funnel
/* analysis funnel, funnel: 2024-03-01..2024-03-31 in Europe/Paris, all tenants */
WITH matched /* step and exclusion events from the range start to its end plus the window, one 0/1 flag per step (m) and exclusion (x), persons resolved through merges */ AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    r.country AS country,
    r.id AS eid,
    CASE
      WHEN r.event = '$pageview'
      AND (
        CASE
          WHEN JSONType(r.properties, 'path') = 'String'
          THEN JSONExtractString(r.properties, 'path')
          WHEN JSONType(r.properties, 'path') IN ('Null', 'Object', 'Array')
          THEN NULL
          ELSE nullIf(JSONExtractRaw(r.properties, 'path'), '')
        END = '/pricing'
      )
      THEN 1
      ELSE 0
    END AS m1,
    CASE WHEN r.event = 'signed_up' THEN 1 ELSE 0 END AS m2,
    CASE WHEN r.event = 'page_created' THEN 1 ELSE 0 END AS m3,
    CASE WHEN r.event = 'page_shared' THEN 1 ELSE 0 END AS x1,
    CASE
      WHEN r.timestamp < toDateTime64('2024-03-31 22:00:00', 6, 'UTC')
      THEN 1
      ELSE 0
    END AS in_range
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= toDateTime64('2024-02-29 23:00:00', 6, 'UTC')
      AND r.timestamp < toDateTime64('2024-04-07 22:00:00', 6, 'UTC')
    )
    AND (
      (
        r.event = '$pageview'
        AND (
          CASE
            WHEN JSONType(r.properties, 'path') = 'String'
            THEN JSONExtractString(r.properties, 'path')
            WHEN JSONType(r.properties, 'path') IN ('Null', 'Object', 'Array')
            THEN NULL
            ELSE nullIf(JSONExtractRaw(r.properties, 'path'), '')
          END = '/pricing'
        )
      )
      OR r.event = 'signed_up'
      OR r.event = 'page_created'
      OR r.event = 'page_shared'
    )
), ordered /* each person's events in (timestamp, event id) order */ AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY who ORDER BY ts, eid) AS pos
  FROM matched
), following /* the position of each step's next event after this one */ AS (
  SELECT
    *,
    MIN(CASE WHEN m2 = 1 THEN pos END) OVER (PARTITION BY who ORDER BY pos ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS nx2,
    MIN(CASE WHEN m3 = 1 THEN pos END) OVER (PARTITION BY who ORDER BY pos ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS nx3
  FROM ordered
), attempts /* one attempt per step-1 event in the range; step k is its first step-k event after step k-1, within the window */ AS (
  SELECT
    s1.who AS who,
    s1.pos AS p1,
    s1.ts AS t1,
    s1.country AS d1_country,
    s2.ts AS t2,
    s2.country AS d2_country,
    s3.ts AS t3,
    s3.country AS d3_country,
    CASE
      WHEN NOT (
        s3.pos IS NULL
      )
      THEN 3
      WHEN NOT (
        s2.pos IS NULL
      )
      THEN 2
      ELSE 1
    END AS reach
  FROM following AS s1
  LEFT JOIN following AS s2
    ON s2.who = s1.who AND s2.pos = s1.nx2 AND s2.ts <= addSeconds(s1.ts, 604800)
  LEFT JOIN following AS s3
    ON s3.who = s1.who AND s3.pos = s2.nx3 AND s3.ts <= addSeconds(s1.ts, 604800)
  WHERE
    s1.m1 = 1 AND s1.in_range = 1
), voided /* attempts an exclusion event voids */ AS (
  SELECT DISTINCT
    a.who,
    a.p1
  FROM attempts AS a
  INNER JOIN matched AS x
    ON x.who = a.who
  WHERE
    (
      x.x1 = 1
      AND a.reach >= 2
      AND x.ts > a.t2
      AND (
        (
          a.reach >= 3 AND x.ts < a.t3
        )
        OR (
          a.reach < 3 AND x.ts <= addSeconds(a.t1, 604800)
        )
      )
    )
), ranked /* attempts ranked per person: furthest step, not voided, earliest completion, latest start */ AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY who ORDER BY reach DESC, void, done, p1 DESC) AS rank,
    MAX(t1) OVER (PARTITION BY who) AS last_t1
  FROM (
    SELECT
      a.*,
      CASE WHEN NOT (
        v.p1 IS NULL
      ) THEN 1 ELSE 0 END AS void,
      CASE WHEN a.reach = 3 THEN a.t3 WHEN a.reach = 2 THEN a.t2 ELSE a.t1 END AS done
    FROM attempts AS a
    LEFT JOIN voided AS v
      ON v.who = a.who AND v.p1 = a.p1
  ) AS scored
), paths /* each person's counted path; excluded when every attempt reaching their furthest step is voided */ AS (
  SELECT
    who,
    reach,
    void AS excluded,
    t1,
    t2,
    t3,
    COALESCE(d3_country, d2_country, d1_country) AS country,
    CASE WHEN reach < 3 THEN toDate(addSeconds(last_t1, 604800), 'Europe/Paris') END AS closes_on,
    toDate(t1, 'Europe/Paris') AS period
  FROM ranked
  WHERE
    rank = 1
)
SELECT
  country,
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
    country,
    reach,
    excluded,
    closes_on,
    COUNT(*) AS persons
  FROM paths
  GROUP BY
    country,
    reach,
    excluded,
    closes_on
) AS counts
UNION ALL
SELECT
  country,
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
      country AS country,
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
        country,
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
      country,
      step
    UNION ALL
    SELECT
      CAST(NULL AS Nullable(String)) AS country,
      CASE WHEN TRUE THEN 1 ELSE 0 END AS total,
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
        country,
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

-- trend
/* analysis funnel, trend: 2024-03-01..2024-03-31 in Europe/Paris, all tenants */
WITH matched /* step and exclusion events from the range start to its end plus the window, one 0/1 flag per step (m) and exclusion (x), persons resolved through merges */ AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    r.country AS country,
    r.id AS eid,
    CASE
      WHEN r.event = '$pageview'
      AND (
        CASE
          WHEN JSONType(r.properties, 'path') = 'String'
          THEN JSONExtractString(r.properties, 'path')
          WHEN JSONType(r.properties, 'path') IN ('Null', 'Object', 'Array')
          THEN NULL
          ELSE nullIf(JSONExtractRaw(r.properties, 'path'), '')
        END = '/pricing'
      )
      THEN 1
      ELSE 0
    END AS m1,
    CASE WHEN r.event = 'signed_up' THEN 1 ELSE 0 END AS m2,
    CASE WHEN r.event = 'page_created' THEN 1 ELSE 0 END AS m3,
    CASE WHEN r.event = 'page_shared' THEN 1 ELSE 0 END AS x1,
    CASE
      WHEN r.timestamp < toDateTime64('2024-03-31 22:00:00', 6, 'UTC')
      THEN 1
      ELSE 0
    END AS in_range
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= toDateTime64('2024-02-29 23:00:00', 6, 'UTC')
      AND r.timestamp < toDateTime64('2024-04-07 22:00:00', 6, 'UTC')
    )
    AND (
      (
        r.event = '$pageview'
        AND (
          CASE
            WHEN JSONType(r.properties, 'path') = 'String'
            THEN JSONExtractString(r.properties, 'path')
            WHEN JSONType(r.properties, 'path') IN ('Null', 'Object', 'Array')
            THEN NULL
            ELSE nullIf(JSONExtractRaw(r.properties, 'path'), '')
          END = '/pricing'
        )
      )
      OR r.event = 'signed_up'
      OR r.event = 'page_created'
      OR r.event = 'page_shared'
    )
), ordered /* each person's events in (timestamp, event id) order */ AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY who ORDER BY ts, eid) AS pos
  FROM matched
), following /* the position of each step's next event after this one */ AS (
  SELECT
    *,
    MIN(CASE WHEN m2 = 1 THEN pos END) OVER (PARTITION BY who ORDER BY pos ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS nx2,
    MIN(CASE WHEN m3 = 1 THEN pos END) OVER (PARTITION BY who ORDER BY pos ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS nx3
  FROM ordered
), attempts /* one attempt per step-1 event in the range; step k is its first step-k event after step k-1, within the window */ AS (
  SELECT
    s1.who AS who,
    s1.pos AS p1,
    s1.ts AS t1,
    s1.country AS d1_country,
    s2.ts AS t2,
    s2.country AS d2_country,
    s3.ts AS t3,
    s3.country AS d3_country,
    CASE
      WHEN NOT (
        s3.pos IS NULL
      )
      THEN 3
      WHEN NOT (
        s2.pos IS NULL
      )
      THEN 2
      ELSE 1
    END AS reach
  FROM following AS s1
  LEFT JOIN following AS s2
    ON s2.who = s1.who AND s2.pos = s1.nx2 AND s2.ts <= addSeconds(s1.ts, 604800)
  LEFT JOIN following AS s3
    ON s3.who = s1.who AND s3.pos = s2.nx3 AND s3.ts <= addSeconds(s1.ts, 604800)
  WHERE
    s1.m1 = 1 AND s1.in_range = 1
), voided /* attempts an exclusion event voids */ AS (
  SELECT DISTINCT
    a.who,
    a.p1
  FROM attempts AS a
  INNER JOIN matched AS x
    ON x.who = a.who
  WHERE
    (
      x.x1 = 1
      AND a.reach >= 2
      AND x.ts > a.t2
      AND (
        (
          a.reach >= 3 AND x.ts < a.t3
        )
        OR (
          a.reach < 3 AND x.ts <= addSeconds(a.t1, 604800)
        )
      )
    )
), ranked /* attempts ranked per person: furthest step, not voided, earliest completion, latest start */ AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY who ORDER BY reach DESC, void, done, p1 DESC) AS rank,
    MAX(t1) OVER (PARTITION BY who) AS last_t1
  FROM (
    SELECT
      a.*,
      CASE WHEN NOT (
        v.p1 IS NULL
      ) THEN 1 ELSE 0 END AS void,
      CASE WHEN a.reach = 3 THEN a.t3 WHEN a.reach = 2 THEN a.t2 ELSE a.t1 END AS done
    FROM attempts AS a
    LEFT JOIN voided AS v
      ON v.who = a.who AND v.p1 = a.p1
  ) AS scored
), paths /* each person's counted path; excluded when every attempt reaching their furthest step is voided */ AS (
  SELECT
    who,
    reach,
    void AS excluded,
    t1,
    t2,
    t3,
    COALESCE(d3_country, d2_country, d1_country) AS country,
    CASE WHEN reach < 3 THEN toDate(addSeconds(last_t1, 604800), 'Europe/Paris') END AS closes_on,
    toDate(t1, 'Europe/Paris') AS period
  FROM ranked
  WHERE
    rank = 1
)
SELECT
  period,
  reach,
  COUNT(*) AS persons
FROM paths
WHERE
  excluded = 0
GROUP BY
  period,
  reach

-- dropped
/* analysis funnel, dropped: 2024-03-01..2024-03-31 in Europe/Paris, all tenants */
WITH matched /* step and exclusion events from the range start to its end plus the window, one 0/1 flag per step (m) and exclusion (x), persons resolved through merges */ AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    r.country AS country,
    r.id AS eid,
    CASE
      WHEN r.event = '$pageview'
      AND (
        CASE
          WHEN JSONType(r.properties, 'path') = 'String'
          THEN JSONExtractString(r.properties, 'path')
          WHEN JSONType(r.properties, 'path') IN ('Null', 'Object', 'Array')
          THEN NULL
          ELSE nullIf(JSONExtractRaw(r.properties, 'path'), '')
        END = '/pricing'
      )
      THEN 1
      ELSE 0
    END AS m1,
    CASE WHEN r.event = 'signed_up' THEN 1 ELSE 0 END AS m2,
    CASE WHEN r.event = 'page_created' THEN 1 ELSE 0 END AS m3,
    CASE WHEN r.event = 'page_shared' THEN 1 ELSE 0 END AS x1,
    CASE
      WHEN r.timestamp < toDateTime64('2024-03-31 22:00:00', 6, 'UTC')
      THEN 1
      ELSE 0
    END AS in_range
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= toDateTime64('2024-02-29 23:00:00', 6, 'UTC')
      AND r.timestamp < toDateTime64('2024-04-07 22:00:00', 6, 'UTC')
    )
    AND (
      (
        r.event = '$pageview'
        AND (
          CASE
            WHEN JSONType(r.properties, 'path') = 'String'
            THEN JSONExtractString(r.properties, 'path')
            WHEN JSONType(r.properties, 'path') IN ('Null', 'Object', 'Array')
            THEN NULL
            ELSE nullIf(JSONExtractRaw(r.properties, 'path'), '')
          END = '/pricing'
        )
      )
      OR r.event = 'signed_up'
      OR r.event = 'page_created'
      OR r.event = 'page_shared'
    )
), ordered /* each person's events in (timestamp, event id) order */ AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY who ORDER BY ts, eid) AS pos
  FROM matched
), following /* the position of each step's next event after this one */ AS (
  SELECT
    *,
    MIN(CASE WHEN m2 = 1 THEN pos END) OVER (PARTITION BY who ORDER BY pos ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS nx2,
    MIN(CASE WHEN m3 = 1 THEN pos END) OVER (PARTITION BY who ORDER BY pos ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS nx3
  FROM ordered
), attempts /* one attempt per step-1 event in the range; step k is its first step-k event after step k-1, within the window */ AS (
  SELECT
    s1.who AS who,
    s1.pos AS p1,
    s1.ts AS t1,
    s1.country AS d1_country,
    s2.ts AS t2,
    s2.country AS d2_country,
    s3.ts AS t3,
    s3.country AS d3_country,
    CASE
      WHEN NOT (
        s3.pos IS NULL
      )
      THEN 3
      WHEN NOT (
        s2.pos IS NULL
      )
      THEN 2
      ELSE 1
    END AS reach
  FROM following AS s1
  LEFT JOIN following AS s2
    ON s2.who = s1.who AND s2.pos = s1.nx2 AND s2.ts <= addSeconds(s1.ts, 604800)
  LEFT JOIN following AS s3
    ON s3.who = s1.who AND s3.pos = s2.nx3 AND s3.ts <= addSeconds(s1.ts, 604800)
  WHERE
    s1.m1 = 1 AND s1.in_range = 1
), voided /* attempts an exclusion event voids */ AS (
  SELECT DISTINCT
    a.who,
    a.p1
  FROM attempts AS a
  INNER JOIN matched AS x
    ON x.who = a.who
  WHERE
    (
      x.x1 = 1
      AND a.reach >= 2
      AND x.ts > a.t2
      AND (
        (
          a.reach >= 3 AND x.ts < a.t3
        )
        OR (
          a.reach < 3 AND x.ts <= addSeconds(a.t1, 604800)
        )
      )
    )
), ranked /* attempts ranked per person: furthest step, not voided, earliest completion, latest start */ AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY who ORDER BY reach DESC, void, done, p1 DESC) AS rank,
    MAX(t1) OVER (PARTITION BY who) AS last_t1
  FROM (
    SELECT
      a.*,
      CASE WHEN NOT (
        v.p1 IS NULL
      ) THEN 1 ELSE 0 END AS void,
      CASE WHEN a.reach = 3 THEN a.t3 WHEN a.reach = 2 THEN a.t2 ELSE a.t1 END AS done
    FROM attempts AS a
    LEFT JOIN voided AS v
      ON v.who = a.who AND v.p1 = a.p1
  ) AS scored
), paths /* each person's counted path; excluded when every attempt reaching their furthest step is voided */ AS (
  SELECT
    who,
    reach,
    void AS excluded,
    t1,
    t2,
    t3,
    COALESCE(d3_country, d2_country, d1_country) AS country,
    CASE WHEN reach < 3 THEN toDate(addSeconds(last_t1, 604800), 'Europe/Paris') END AS closes_on,
    toDate(t1, 'Europe/Paris') AS period
  FROM ranked
  WHERE
    rank = 1
)
SELECT
  step,
  who
FROM (
  SELECT
    reach AS step,
    who,
    ROW_NUMBER() OVER (PARTITION BY reach ORDER BY who) AS nth
  FROM paths
  WHERE
    excluded = 0 AND reach < 3
) AS dropped
WHERE
  nth <= 10001
ORDER BY
  step,
  who
