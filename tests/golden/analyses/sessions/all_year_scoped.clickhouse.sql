-- case: all_year_scoped
-- summary
/* analysis sessions, summary: 2024-01-01..2024-11-10 in UTC, tenants t1, t3 */
SELECT
  COUNT(*) AS sessions,
  AVG(duration) AS avg_duration,
  quantileExactInclusive(0.5)(duration) AS p50_duration,
  quantileExactInclusive(0.95)(duration) AS p95_duration,
  SUM(bounced) AS bounced,
  COUNT(DISTINCT who) AS persons
FROM (
  SELECT
    *,
    CASE WHEN (
      pageviews = 1 AND events = 1
    ) OR duration < 10 THEN 1 ELSE 0 END AS bounced,
    CASE
      WHEN duration = 0
      THEN 0
      WHEN duration < 10
      THEN 1
      WHEN duration < 30
      THEN 2
      WHEN duration < 60
      THEN 3
      WHEN duration < 180
      THEN 4
      WHEN duration < 600
      THEN 5
      WHEN duration < 1800
      THEN 6
      WHEN duration < 3600
      THEN 7
      ELSE 8
    END AS duration_bin
  FROM (
    SELECT
      r.started_at AS ts,
      r.person_id AS who,
      toDate(r.started_at, 'UTC') AS bucket,
      r.duration_seconds AS duration,
      r.events AS events,
      r.pageviews AS pageviews,
      r.entry_event AS top_entry_event,
      r.exit_event AS top_exit_event,
      r.path AS top_path,
      r.exit_path AS top_exit_path
    FROM sessions AS r
    WHERE
      (
        r.started_at >= toDateTime64('2024-01-01 00:00:00', 6, 'UTC')
        AND r.started_at < toDateTime64('2024-11-11 00:00:00', 6, 'UTC')
      )
      AND r.tenant_id IN ('t1', 't3')
  ) AS s
) AS m

-- series
/* analysis sessions, series: 2024-01-01..2024-11-10 in UTC, tenants t1, t3 */
SELECT
  bucket,
  COUNT(*) AS sessions,
  AVG(duration) AS avg_duration,
  quantileExactInclusive(0.5)(duration) AS p50_duration,
  quantileExactInclusive(0.95)(duration) AS p95_duration,
  SUM(bounced) AS bounced
FROM (
  SELECT
    *,
    CASE WHEN (
      pageviews = 1 AND events = 1
    ) OR duration < 10 THEN 1 ELSE 0 END AS bounced,
    CASE
      WHEN duration = 0
      THEN 0
      WHEN duration < 10
      THEN 1
      WHEN duration < 30
      THEN 2
      WHEN duration < 60
      THEN 3
      WHEN duration < 180
      THEN 4
      WHEN duration < 600
      THEN 5
      WHEN duration < 1800
      THEN 6
      WHEN duration < 3600
      THEN 7
      ELSE 8
    END AS duration_bin
  FROM (
    SELECT
      r.started_at AS ts,
      r.person_id AS who,
      toDate(r.started_at, 'UTC') AS bucket,
      r.duration_seconds AS duration,
      r.events AS events,
      r.pageviews AS pageviews,
      r.entry_event AS top_entry_event,
      r.exit_event AS top_exit_event,
      r.path AS top_path,
      r.exit_path AS top_exit_path
    FROM sessions AS r
    WHERE
      (
        r.started_at >= toDateTime64('2024-01-01 00:00:00', 6, 'UTC')
        AND r.started_at < toDateTime64('2024-11-11 00:00:00', 6, 'UTC')
      )
      AND r.tenant_id IN ('t1', 't3')
  ) AS s
) AS m
GROUP BY
  bucket

-- durations
/* analysis sessions, durations: 2024-01-01..2024-11-10 in UTC, tenants t1, t3 */
SELECT
  duration_bin,
  COUNT(*) AS sessions
FROM (
  SELECT
    *,
    CASE WHEN (
      pageviews = 1 AND events = 1
    ) OR duration < 10 THEN 1 ELSE 0 END AS bounced,
    CASE
      WHEN duration = 0
      THEN 0
      WHEN duration < 10
      THEN 1
      WHEN duration < 30
      THEN 2
      WHEN duration < 60
      THEN 3
      WHEN duration < 180
      THEN 4
      WHEN duration < 600
      THEN 5
      WHEN duration < 1800
      THEN 6
      WHEN duration < 3600
      THEN 7
      ELSE 8
    END AS duration_bin
  FROM (
    SELECT
      r.started_at AS ts,
      r.person_id AS who,
      toDate(r.started_at, 'UTC') AS bucket,
      r.duration_seconds AS duration,
      r.events AS events,
      r.pageviews AS pageviews,
      r.entry_event AS top_entry_event,
      r.exit_event AS top_exit_event,
      r.path AS top_path,
      r.exit_path AS top_exit_path
    FROM sessions AS r
    WHERE
      (
        r.started_at >= toDateTime64('2024-01-01 00:00:00', 6, 'UTC')
        AND r.started_at < toDateTime64('2024-11-11 00:00:00', 6, 'UTC')
      )
      AND r.tenant_id IN ('t1', 't3')
  ) AS s
) AS m
GROUP BY
  duration_bin

-- per_person
/* analysis sessions, per_person: 2024-01-01..2024-11-10 in UTC, tenants t1, t3 */
SELECT
  LEAST(n, 10) AS per_person,
  COUNT(*) AS persons
FROM (
  SELECT
    who,
    COUNT(*) AS n
  FROM (
    SELECT
      *,
      CASE WHEN (
        pageviews = 1 AND events = 1
      ) OR duration < 10 THEN 1 ELSE 0 END AS bounced,
      CASE
        WHEN duration = 0
        THEN 0
        WHEN duration < 10
        THEN 1
        WHEN duration < 30
        THEN 2
        WHEN duration < 60
        THEN 3
        WHEN duration < 180
        THEN 4
        WHEN duration < 600
        THEN 5
        WHEN duration < 1800
        THEN 6
        WHEN duration < 3600
        THEN 7
        ELSE 8
      END AS duration_bin
    FROM (
      SELECT
        r.started_at AS ts,
        r.person_id AS who,
        toDate(r.started_at, 'UTC') AS bucket,
        r.duration_seconds AS duration,
        r.events AS events,
        r.pageviews AS pageviews,
        r.entry_event AS top_entry_event,
        r.exit_event AS top_exit_event,
        r.path AS top_path,
        r.exit_path AS top_exit_path
      FROM sessions AS r
      WHERE
        (
          r.started_at >= toDateTime64('2024-01-01 00:00:00', 6, 'UTC')
          AND r.started_at < toDateTime64('2024-11-11 00:00:00', 6, 'UTC')
        )
        AND r.tenant_id IN ('t1', 't3')
    ) AS s
  ) AS m
  GROUP BY
    who
) AS pp
GROUP BY
  LEAST(n, 10)

-- top
/* analysis sessions, top: 2024-01-01..2024-11-10 in UTC, tenants t1, t3 */
SELECT
  *
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY kind ORDER BY sessions DESC, name) AS rank
  FROM (
    SELECT
      'entry_event' AS kind,
      top_entry_event AS name,
      COUNT(*) AS sessions
    FROM (
      SELECT
        *,
        CASE WHEN (
          pageviews = 1 AND events = 1
        ) OR duration < 10 THEN 1 ELSE 0 END AS bounced,
        CASE
          WHEN duration = 0
          THEN 0
          WHEN duration < 10
          THEN 1
          WHEN duration < 30
          THEN 2
          WHEN duration < 60
          THEN 3
          WHEN duration < 180
          THEN 4
          WHEN duration < 600
          THEN 5
          WHEN duration < 1800
          THEN 6
          WHEN duration < 3600
          THEN 7
          ELSE 8
        END AS duration_bin
      FROM (
        SELECT
          r.started_at AS ts,
          r.person_id AS who,
          toDate(r.started_at, 'UTC') AS bucket,
          r.duration_seconds AS duration,
          r.events AS events,
          r.pageviews AS pageviews,
          r.entry_event AS top_entry_event,
          r.exit_event AS top_exit_event,
          r.path AS top_path,
          r.exit_path AS top_exit_path
        FROM sessions AS r
        WHERE
          (
            r.started_at >= toDateTime64('2024-01-01 00:00:00', 6, 'UTC')
            AND r.started_at < toDateTime64('2024-11-11 00:00:00', 6, 'UTC')
          )
          AND r.tenant_id IN ('t1', 't3')
      ) AS s
    ) AS m
    GROUP BY
      top_entry_event
    UNION ALL
    SELECT
      'exit_event' AS kind,
      top_exit_event AS name,
      COUNT(*) AS sessions
    FROM (
      SELECT
        *,
        CASE WHEN (
          pageviews = 1 AND events = 1
        ) OR duration < 10 THEN 1 ELSE 0 END AS bounced,
        CASE
          WHEN duration = 0
          THEN 0
          WHEN duration < 10
          THEN 1
          WHEN duration < 30
          THEN 2
          WHEN duration < 60
          THEN 3
          WHEN duration < 180
          THEN 4
          WHEN duration < 600
          THEN 5
          WHEN duration < 1800
          THEN 6
          WHEN duration < 3600
          THEN 7
          ELSE 8
        END AS duration_bin
      FROM (
        SELECT
          r.started_at AS ts,
          r.person_id AS who,
          toDate(r.started_at, 'UTC') AS bucket,
          r.duration_seconds AS duration,
          r.events AS events,
          r.pageviews AS pageviews,
          r.entry_event AS top_entry_event,
          r.exit_event AS top_exit_event,
          r.path AS top_path,
          r.exit_path AS top_exit_path
        FROM sessions AS r
        WHERE
          (
            r.started_at >= toDateTime64('2024-01-01 00:00:00', 6, 'UTC')
            AND r.started_at < toDateTime64('2024-11-11 00:00:00', 6, 'UTC')
          )
          AND r.tenant_id IN ('t1', 't3')
      ) AS s
    ) AS m
    GROUP BY
      top_exit_event
    UNION ALL
    SELECT
      'path' AS kind,
      top_path AS name,
      COUNT(*) AS sessions
    FROM (
      SELECT
        *,
        CASE WHEN (
          pageviews = 1 AND events = 1
        ) OR duration < 10 THEN 1 ELSE 0 END AS bounced,
        CASE
          WHEN duration = 0
          THEN 0
          WHEN duration < 10
          THEN 1
          WHEN duration < 30
          THEN 2
          WHEN duration < 60
          THEN 3
          WHEN duration < 180
          THEN 4
          WHEN duration < 600
          THEN 5
          WHEN duration < 1800
          THEN 6
          WHEN duration < 3600
          THEN 7
          ELSE 8
        END AS duration_bin
      FROM (
        SELECT
          r.started_at AS ts,
          r.person_id AS who,
          toDate(r.started_at, 'UTC') AS bucket,
          r.duration_seconds AS duration,
          r.events AS events,
          r.pageviews AS pageviews,
          r.entry_event AS top_entry_event,
          r.exit_event AS top_exit_event,
          r.path AS top_path,
          r.exit_path AS top_exit_path
        FROM sessions AS r
        WHERE
          (
            r.started_at >= toDateTime64('2024-01-01 00:00:00', 6, 'UTC')
            AND r.started_at < toDateTime64('2024-11-11 00:00:00', 6, 'UTC')
          )
          AND r.tenant_id IN ('t1', 't3')
      ) AS s
    ) AS m
    GROUP BY
      top_path
    UNION ALL
    SELECT
      'exit_path' AS kind,
      top_exit_path AS name,
      COUNT(*) AS sessions
    FROM (
      SELECT
        *,
        CASE WHEN (
          pageviews = 1 AND events = 1
        ) OR duration < 10 THEN 1 ELSE 0 END AS bounced,
        CASE
          WHEN duration = 0
          THEN 0
          WHEN duration < 10
          THEN 1
          WHEN duration < 30
          THEN 2
          WHEN duration < 60
          THEN 3
          WHEN duration < 180
          THEN 4
          WHEN duration < 600
          THEN 5
          WHEN duration < 1800
          THEN 6
          WHEN duration < 3600
          THEN 7
          ELSE 8
        END AS duration_bin
      FROM (
        SELECT
          r.started_at AS ts,
          r.person_id AS who,
          toDate(r.started_at, 'UTC') AS bucket,
          r.duration_seconds AS duration,
          r.events AS events,
          r.pageviews AS pageviews,
          r.entry_event AS top_entry_event,
          r.exit_event AS top_exit_event,
          r.path AS top_path,
          r.exit_path AS top_exit_path
        FROM sessions AS r
        WHERE
          (
            r.started_at >= toDateTime64('2024-01-01 00:00:00', 6, 'UTC')
            AND r.started_at < toDateTime64('2024-11-11 00:00:00', 6, 'UTC')
          )
          AND r.tenant_id IN ('t1', 't3')
      ) AS s
    ) AS m
    GROUP BY
      top_exit_path
  ) AS u
) AS t
WHERE
  rank <= 10
