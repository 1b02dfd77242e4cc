-- case: daily_rolling_on_or_after
-- statement matrix
/* analysis retention, matrix: 2024-09-01..2024-10-31 in Europe/Paris, all tenants */
WITH last_returns /* retention: each person's last active event (unbounded) */ AS (
  SELECT
    who,
    MAX(ts) AS ts
  FROM (
    SELECT
      r.timestamp AS ts,
      COALESCE(o.person_id, r.person_id) AS who
    FROM events AS r
    LEFT JOIN person_overrides AS o
      ON o.old_person_id = r.person_id
    WHERE
      (
        r.timestamp >= CAST('2024-08-31 22:00:00+00' AS TIMESTAMPTZ)
        AND r.timestamp < CAST('2124-10-07 22:00:00+00' AS TIMESTAMPTZ)
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
  GROUP BY
    who
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
), returned_matrix /* retention: members returning last in day N */ AS (
  SELECT
    'matrix' AS part,
    c.cohort AS cohort,
    CASE
      WHEN FLOOR(DATE_DIFF('microsecond', c.started, x.ts) / 1000000.0 / 86400) IS NULL
      OR 14 IS NULL
      THEN NULL
      ELSE LEAST(FLOOR(DATE_DIFF('microsecond', c.started, x.ts) / 1000000.0 / 86400), 14)
    END AS period,
    COUNT(*) AS persons
  FROM members_day AS c
  JOIN last_returns AS x
    ON x.who = c.who
  WHERE
    FLOOR(DATE_DIFF('microsecond', c.started, x.ts) / 1000000.0 / 86400) >= 1
  GROUP BY
    c.cohort,
    CASE
      WHEN FLOOR(DATE_DIFF('microsecond', c.started, x.ts) / 1000000.0 / 86400) IS NULL
      OR 14 IS NULL
      THEN NULL
      ELSE LEAST(FLOOR(DATE_DIFF('microsecond', c.started, x.ts) / 1000000.0 / 86400), 14)
    END
)
SELECT
  *
FROM (
  SELECT
    'matrix' AS part,
    cohort,
    0 AS period,
    COUNT(*) AS persons
  FROM members_day
  GROUP BY
    cohort
  UNION ALL
  SELECT
    *
  FROM returned_matrix
) AS u;
