-- case: session_duration_avg default: 2024-03-01..2024-03-31, day, Europe/Paris
/* metric session_duration_avg (average): Average session duration; 2024-03-01..2024-03-31 in Europe/Paris, grain day, all tenants */
WITH session_duration_avg_rows /* session_duration_avg: sessions in the range, persons resolved through merges */ AS (
  SELECT
    r.started_at AS ts,
    r.person_id AS who,
    CAST('1970-01-01' AS DATE) + CAST((
      EPOCH_US(r.started_at) + CASE
        WHEN EPOCH_US(r.started_at) < 1711846800000000
        THEN 3600000000
        ELSE 7200000000
      END
    ) // 86400000000 AS INT) AS bucket,
    r.duration_seconds AS v
  FROM (
    SELECT
      session_key AS session_id,
      MIN(who) AS person_id,
      MIN(ts) AS started_at,
      MAX(ts) AS ended_at,
      DATE_DIFF('microsecond', MIN(ts), MAX(ts)) / 1000000.0 AS duration_seconds,
      COUNT(*) AS events,
      SUM(CASE WHEN event = '$pageview' THEN 1 ELSE 0 END) AS pageviews,
      MAX(CASE WHEN pos = 1 THEN tenant_id END) AS tenant_id,
      MAX(CASE WHEN pos = 1 THEN plan END) AS plan,
      MAX(CASE WHEN pos = 1 THEN country END) AS country,
      MAX(CASE WHEN pos = 1 THEN channel END) AS channel,
      MAX(CASE WHEN pos = 1 THEN device END) AS device,
      MAX(CASE WHEN pos = 1 THEN path END) AS path,
      MAX(CASE WHEN pos = 1 THEN properties END) AS properties
    FROM (
      SELECT
        *,
        ROW_NUMBER() OVER (PARTITION BY session_key ORDER BY ts, id) AS pos
      FROM (
        SELECT
          *,
          COALESCE(
            session_id,
            's:' || CAST(who AS TEXT) || ':' || CAST(visit AS TEXT) || ':' || CAST(CAST(FLOOR(
              DATE_DIFF('microsecond', MIN(ts) OVER (PARTITION BY who, visit, session_id IS NULL), ts) / 1000000.0 / 86400
            ) AS BIGINT) AS TEXT)
          ) AS session_key
        FROM (
          SELECT
            *,
            SUM(is_break) OVER (
              PARTITION BY who, session_id IS NULL
              ORDER BY ts, id
              ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS visit
          FROM (
            SELECT
              *,
              CASE
                WHEN DATE_DIFF(
                  'microsecond',
                  LAG(ts) OVER (PARTITION BY who, session_id IS NULL ORDER BY ts, id),
                  ts
                ) / 1000000.0 > 1800
                THEN 1
                ELSE 0
              END AS is_break
            FROM (
              SELECT
                r.timestamp AS ts,
                COALESCE(o.person_id, r.person_id) AS who,
                r.id,
                r.session_id,
                r.event,
                r.tenant_id,
                r.plan,
                r.country,
                r.channel,
                r.device,
                r.path,
                r.properties
              FROM events AS r
              LEFT JOIN person_overrides AS o
                ON o.old_person_id = r.person_id
              WHERE
                r.timestamp >= CAST('2024-02-27 23:00:00+00' AS TIMESTAMPTZ)
                AND r.timestamp < CAST('2024-04-01 22:00:00+00' AS TIMESTAMPTZ)
            ) AS ev
          ) AS b
        ) AS v
      ) AS k
    ) AS n
    GROUP BY
      session_key
  ) AS r
  WHERE
    r.started_at >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMPTZ)
    AND r.started_at < CAST('2024-03-31 22:00:00+00' AS TIMESTAMPTZ)
)
SELECT
  bucket,
  AVG(v) AS value
FROM session_duration_avg_rows
GROUP BY
  bucket
