-- case: recurring_sunday_weeks
-- statement matrix
/* analysis retention, matrix: 2024-09-01..2024-10-31 in Europe/Paris, all tenants */
WITH returns_week /* retention: persons' active weeks up to the last period shown */ AS (
  SELECT DISTINCT
    who,
    idx
  FROM (
    SELECT
      r.timestamp AS ts,
      COALESCE(o.person_id, r.person_id) AS who,
      toInt64(
        toRelativeDayNum(
          addDays(
            toDate(r.timestamp, 'Europe/Paris'),
            -(
              (
                toInt64(toRelativeDayNum(toDate(r.timestamp, 'Europe/Paris'))) + 4
              ) % 7
            )
          )
        )
      ) AS idx
    FROM events AS r
    LEFT JOIN person_overrides AS o
      ON o.old_person_id = r.person_id
    WHERE
      (
        r.timestamp >= toDateTime64('2024-08-31 22:00:00', 6, 'UTC')
        AND r.timestamp < toDateTime64('2024-12-28 23:00:00', 6, 'UTC')
      )
      AND NOT (
        r.event IN (
          '$create_alias',
          '$feature_flag_called',
          '$groupidentify',
          '$identify',
          '$pageleave',
          '$set',
          'invoice_paid'
        )
      )
  ) AS x
), start_events /* retention: active events in the range, persons resolved through merges, local days */ AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    toDate(r.timestamp, 'Europe/Paris') AS day,
    r.id AS event_id
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= toDateTime64('2024-08-31 22:00:00', 6, 'UTC')
      AND r.timestamp < toDateTime64('2024-10-31 23:00:00', 6, 'UTC')
    )
    AND NOT (
      r.event IN (
        '$create_alias',
        '$feature_flag_called',
        '$groupidentify',
        '$identify',
        '$pageleave',
        '$set',
        'invoice_paid'
      )
    )
), members_week /* retention: cohort members by week (every period with a start event) */ AS (
  SELECT
    who,
    cohort AS cohort,
    toInt64(toRelativeDayNum(cohort)) AS idx,
    started
  FROM (
    SELECT
      who,
      addDays(day, -(
        (
          toInt64(toRelativeDayNum(day)) + 4
        ) % 7
      )) AS cohort,
      MIN(ts) AS started
    FROM start_events
    GROUP BY
      who,
      addDays(day, -(
        (
          toInt64(toRelativeDayNum(day)) + 4
        ) % 7
      ))
  ) AS s
), returned_matrix /* retention: members returning in week N */ AS (
  SELECT
    'matrix' AS part,
    c.cohort AS cohort,
    CAST((
      x.idx - c.idx
    ) / 7 AS Nullable(Int64)) AS period,
    COUNT(*) AS persons
  FROM members_week AS c
  JOIN returns_week AS x
    ON x.who = c.who
  WHERE
    CAST((
      x.idx - c.idx
    ) / 7 AS Nullable(Int64)) BETWEEN 1 AND 8
  GROUP BY
    c.cohort,
    CAST((
      x.idx - c.idx
    ) / 7 AS Nullable(Int64))
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
) AS u;
