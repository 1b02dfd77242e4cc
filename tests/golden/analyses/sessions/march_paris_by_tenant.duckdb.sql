-- case: march_paris_by_tenant
-- summary
/* analysis sessions, summary: 2024-03-01..2024-04-05 in Europe/Paris, all tenants */
SELECT
  tenant,
  COUNT(*) AS sessions,
  AVG(duration) AS avg_duration,
  QUANTILE_CONT(duration, 0.5) AS p50_duration,
  QUANTILE_CONT(duration, 0.95) AS p95_duration,
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
      r.tenant_id AS tenant,
      CAST('1970-01-01' AS DATE) + CAST((
        EPOCH_US(r.started_at) + CASE
          WHEN EPOCH_US(r.started_at) < 1711846800000000
          THEN 3600000000
          ELSE 7200000000
        END
      ) // 86400000000 AS INT) AS bucket,
      r.duration_seconds AS duration,
      r.events AS events,
      r.pageviews AS pageviews,
      r.entry_event AS top_entry_event,
      r.exit_event AS top_exit_event,
      r.path AS top_path,
      r.exit_path AS top_exit_path
    FROM sessions AS r
    WHERE
      r.started_at >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMPTZ)
      AND r.started_at < CAST('2024-04-05 22:00:00+00' AS TIMESTAMPTZ)
  ) AS s
) AS m
GROUP BY
  tenant

-- series
/* analysis sessions, series: 2024-03-01..2024-04-05 in Europe/Paris, all tenants */
SELECT
  tenant,
  bucket,
  COUNT(*) AS sessions,
  AVG(duration) AS avg_duration,
  QUANTILE_CONT(duration, 0.5) AS p50_duration,
  QUANTILE_CONT(duration, 0.95) AS p95_duration,
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
      r.tenant_id AS tenant,
      CAST('1970-01-01' AS DATE) + CAST((
        EPOCH_US(r.started_at) + CASE
          WHEN EPOCH_US(r.started_at) < 1711846800000000
          THEN 3600000000
          ELSE 7200000000
        END
      ) // 86400000000 AS INT) AS bucket,
      r.duration_seconds AS duration,
      r.events AS events,
      r.pageviews AS pageviews,
      r.entry_event AS top_entry_event,
      r.exit_event AS top_exit_event,
      r.path AS top_path,
      r.exit_path AS top_exit_path
    FROM sessions AS r
    WHERE
      r.started_at >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMPTZ)
      AND r.started_at < CAST('2024-04-05 22:00:00+00' AS TIMESTAMPTZ)
  ) AS s
) AS m
GROUP BY
  tenant,
  bucket

-- durations
/* analysis sessions, durations: 2024-03-01..2024-04-05 in Europe/Paris, all tenants */
SELECT
  tenant,
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
      r.tenant_id AS tenant,
      CAST('1970-01-01' AS DATE) + CAST((
        EPOCH_US(r.started_at) + CASE
          WHEN EPOCH_US(r.started_at) < 1711846800000000
          THEN 3600000000
          ELSE 7200000000
        END
      ) // 86400000000 AS INT) AS bucket,
      r.duration_seconds AS duration,
      r.events AS events,
      r.pageviews AS pageviews,
      r.entry_event AS top_entry_event,
      r.exit_event AS top_exit_event,
      r.path AS top_path,
      r.exit_path AS top_exit_path
    FROM sessions AS r
    WHERE
      r.started_at >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMPTZ)
      AND r.started_at < CAST('2024-04-05 22:00:00+00' AS TIMESTAMPTZ)
  ) AS s
) AS m
GROUP BY
  tenant,
  duration_bin

-- per_person
/* analysis sessions, per_person: 2024-03-01..2024-04-05 in Europe/Paris, all tenants */
SELECT
  tenant,
  LEAST(n, 10) AS per_person,
  COUNT(*) AS persons
FROM (
  SELECT
    tenant,
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
        r.tenant_id AS tenant,
        CAST('1970-01-01' AS DATE) + CAST((
          EPOCH_US(r.started_at) + CASE
            WHEN EPOCH_US(r.started_at) < 1711846800000000
            THEN 3600000000
            ELSE 7200000000
          END
        ) // 86400000000 AS INT) AS bucket,
        r.duration_seconds AS duration,
        r.events AS events,
        r.pageviews AS pageviews,
        r.entry_event AS top_entry_event,
        r.exit_event AS top_exit_event,
        r.path AS top_path,
        r.exit_path AS top_exit_path
      FROM sessions AS r
      WHERE
        r.started_at >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMPTZ)
        AND r.started_at < CAST('2024-04-05 22:00:00+00' AS TIMESTAMPTZ)
    ) AS s
  ) AS m
  GROUP BY
    tenant,
    who
) AS pp
GROUP BY
  tenant,
  LEAST(n, 10)

-- top
/* analysis sessions, top: 2024-03-01..2024-04-05 in Europe/Paris, all tenants */
SELECT
  *
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY tenant, kind ORDER BY sessions DESC, name) AS rank
  FROM (
    SELECT
      tenant,
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
          r.tenant_id AS tenant,
          CAST('1970-01-01' AS DATE) + CAST((
            EPOCH_US(r.started_at) + CASE
              WHEN EPOCH_US(r.started_at) < 1711846800000000
              THEN 3600000000
              ELSE 7200000000
            END
          ) // 86400000000 AS INT) AS bucket,
          r.duration_seconds AS duration,
          r.events AS events,
          r.pageviews AS pageviews,
          r.entry_event AS top_entry_event,
          r.exit_event AS top_exit_event,
          r.path AS top_path,
          r.exit_path AS top_exit_path
        FROM sessions AS r
        WHERE
          r.started_at >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMPTZ)
          AND r.started_at < CAST('2024-04-05 22:00:00+00' AS TIMESTAMPTZ)
      ) AS s
    ) AS m
    GROUP BY
      tenant,
      top_entry_event
    UNION ALL
    SELECT
      tenant,
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
          r.tenant_id AS tenant,
          CAST('1970-01-01' AS DATE) + CAST((
            EPOCH_US(r.started_at) + CASE
              WHEN EPOCH_US(r.started_at) < 1711846800000000
              THEN 3600000000
              ELSE 7200000000
            END
          ) // 86400000000 AS INT) AS bucket,
          r.duration_seconds AS duration,
          r.events AS events,
          r.pageviews AS pageviews,
          r.entry_event AS top_entry_event,
          r.exit_event AS top_exit_event,
          r.path AS top_path,
          r.exit_path AS top_exit_path
        FROM sessions AS r
        WHERE
          r.started_at >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMPTZ)
          AND r.started_at < CAST('2024-04-05 22:00:00+00' AS TIMESTAMPTZ)
      ) AS s
    ) AS m
    GROUP BY
      tenant,
      top_exit_event
    UNION ALL
    SELECT
      tenant,
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
          r.tenant_id AS tenant,
          CAST('1970-01-01' AS DATE) + CAST((
            EPOCH_US(r.started_at) + CASE
              WHEN EPOCH_US(r.started_at) < 1711846800000000
              THEN 3600000000
              ELSE 7200000000
            END
          ) // 86400000000 AS INT) AS bucket,
          r.duration_seconds AS duration,
          r.events AS events,
          r.pageviews AS pageviews,
          r.entry_event AS top_entry_event,
          r.exit_event AS top_exit_event,
          r.path AS top_path,
          r.exit_path AS top_exit_path
        FROM sessions AS r
        WHERE
          r.started_at >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMPTZ)
          AND r.started_at < CAST('2024-04-05 22:00:00+00' AS TIMESTAMPTZ)
      ) AS s
    ) AS m
    GROUP BY
      tenant,
      top_path
    UNION ALL
    SELECT
      tenant,
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
          r.tenant_id AS tenant,
          CAST('1970-01-01' AS DATE) + CAST((
            EPOCH_US(r.started_at) + CASE
              WHEN EPOCH_US(r.started_at) < 1711846800000000
              THEN 3600000000
              ELSE 7200000000
            END
          ) // 86400000000 AS INT) AS bucket,
          r.duration_seconds AS duration,
          r.events AS events,
          r.pageviews AS pageviews,
          r.entry_event AS top_entry_event,
          r.exit_event AS top_exit_event,
          r.path AS top_path,
          r.exit_path AS top_exit_path
        FROM sessions AS r
        WHERE
          r.started_at >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMPTZ)
          AND r.started_at < CAST('2024-04-05 22:00:00+00' AS TIMESTAMPTZ)
      ) AS s
    ) AS m
    GROUP BY
      tenant,
      top_exit_path
  ) AS u
) AS t
WHERE
  rank <= 10
