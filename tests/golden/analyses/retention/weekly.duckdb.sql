-- case: weekly
-- statement matrix
/* analysis retention, matrix: 2024-09-01..2024-10-31 in Europe/Paris, all tenants */
WITH return_days /* retention: persons' active days */ AS (
  SELECT DISTINCT
    who,
    day
  FROM (
    SELECT
      r.timestamp AS ts,
      COALESCE(o.person_id, r.person_id) AS who,
      CAST('1970-01-01' AS DATE) + CAST((
        EPOCH_US(r.timestamp) + CASE
          WHEN EPOCH_US(r.timestamp) < 1729990800000000
          THEN 7200000000
          ELSE 3600000000
        END
      ) // 86400000000 AS INT) AS day
    FROM events AS r
    LEFT JOIN person_overrides AS o
      ON o.old_person_id = r.person_id
    WHERE
      (
        r.timestamp >= CAST('2024-08-31 22:00:00+00' AS TIMESTAMPTZ)
        AND r.timestamp < CAST('2025-01-29 23:00:00+00' AS TIMESTAMPTZ)
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
  ) AS x
), returns_day /* retention: persons' active days */ AS (
  SELECT
    who,
    day - CAST('1970-01-01' AS DATE) AS idx
  FROM return_days
), returns_week /* retention: persons' active weeks */ AS (
  SELECT DISTINCT
    who,
    day + CAST(-(
      (
        day - CAST('1970-01-01' AS DATE) + 10
      ) % 7
    ) AS INT) - CAST('1970-01-01' AS DATE) AS idx
  FROM return_days
), start_events /* retention: active events in the range, persons resolved through merges, local days */ AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    CAST('1970-01-01' AS DATE) + CAST((
      EPOCH_US(r.timestamp) + CASE
        WHEN EPOCH_US(r.timestamp) < 1729990800000000
        THEN 7200000000
        ELSE 3600000000
      END
    ) // 86400000000 AS INT) AS day,
    r.id AS event_id
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= CAST('2024-08-31 22:00:00+00' AS TIMESTAMPTZ)
      AND r.timestamp < CAST('2024-10-31 23:00:00+00' AS TIMESTAMPTZ)
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
), members_week /* retention: cohort members by week (first start event in the range) */ AS (
  SELECT
    who,
    first_day + CAST(-(
      (
        first_day - CAST('1970-01-01' AS DATE) + 10
      ) % 7
    ) AS INT) AS cohort,
    first_day + CAST(-(
      (
        first_day - CAST('1970-01-01' AS DATE) + 10
      ) % 7
    ) AS INT) - CAST('1970-01-01' AS DATE) AS idx,
    started
  FROM (
    SELECT
      who,
      MIN(day) AS first_day,
      MIN(ts) AS started
    FROM start_events
    GROUP BY
      who
  ) AS s
), returned_matrix /* retention: members returning in week N */ AS (
  SELECT
    'matrix' AS part,
    c.cohort AS cohort,
    (
      x.idx - c.idx
    ) // 7 AS period,
    COUNT(*) AS persons
  FROM members_week AS c
  JOIN returns_week AS x
    ON x.who = c.who
  WHERE
    (
      x.idx - c.idx
    ) // 7 BETWEEN 1 AND 8
  GROUP BY
    c.cohort,
    (
      x.idx - c.idx
    ) // 7
), members_day /* retention: cohort members by day (first start event in the range) */ AS (
  SELECT
    who,
    first_day AS cohort,
    first_day - CAST('1970-01-01' AS DATE) AS idx,
    started
  FROM (
    SELECT
      who,
      MIN(day) AS first_day,
      MIN(ts) AS started
    FROM start_events
    GROUP BY
      who
  ) AS s
), returned_day_n /* retention: members returning in day N */ AS (
  SELECT
    'day_n' AS part,
    c.cohort AS cohort,
    x.idx - c.idx AS period,
    COUNT(*) AS persons
  FROM members_day AS c
  JOIN returns_day AS x
    ON x.who = c.who
  WHERE
    x.idx - c.idx IN (1, 7, 14, 30, 60, 90)
  GROUP BY
    c.cohort,
    x.idx - c.idx
)
SELECT
  *
FROM (
  SELECT
    'matrix' AS part,
    cohort,
    0 AS period,
    COUNT(*) AS persons
  FROM members_week
  GROUP BY
    cohort
  UNION ALL
  SELECT
    *
  FROM returned_matrix
  UNION ALL
  SELECT
    'day_n' AS part,
    cohort,
    0 AS period,
    COUNT(*) AS persons
  FROM members_day
  GROUP BY
    cohort
  UNION ALL
  SELECT
    *
  FROM returned_day_n
) AS u;
