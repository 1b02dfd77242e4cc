-- case: activation_rate default: 2024-03-01..2024-03-31, day, Europe/Paris
/* metric activation_rate (conversion): Activation rate; 2024-03-01..2024-03-31 in Europe/Paris, grain day, all tenants */
WITH activation_rate_start_events /* activation_rate: start events in the range, persons resolved through merges */ AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    CAST('1970-01-01' AS DATE) + CAST((
      EPOCH_US(r.timestamp) + CASE
        WHEN EPOCH_US(r.timestamp) < 1711846800000000
        THEN 3600000000
        ELSE 7200000000
      END
    ) // 86400000000 AS INT) AS bucket
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMPTZ)
      AND r.timestamp < CAST('2024-03-31 22:00:00+00' AS TIMESTAMPTZ)
    )
    AND r.event IN ('signed_up')
), activation_rate_cohort /* activation_rate: cohort members (first start event in the range) */ AS (
  SELECT
    who,
    ts AS started,
    bucket
  FROM (
    SELECT
      *,
      ROW_NUMBER() OVER (PARTITION BY who ORDER BY ts) AS nth
    FROM activation_rate_start_events
  ) AS s
  WHERE
    nth = 1
), activation_rate_targets /* activation_rate: target events up to 7 days after the range */ AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMPTZ)
      AND r.timestamp < CAST('2024-04-08 22:00:00+00' AS TIMESTAMPTZ)
    )
    AND r.event IN ('page_created')
), activation_rate_converted /* activation_rate: members with a target event within 7 days */ AS (
  SELECT DISTINCT
    c.who,
    c.bucket
  FROM activation_rate_cohort AS c
  JOIN activation_rate_targets AS x
    ON x.who = c.who
  WHERE
    x.ts >= c.started AND x.ts <= c.started + INTERVAL '604800 seconds'
)
SELECT
  c.bucket AS bucket,
  CAST(COUNT(DISTINCT r.who) AS DOUBLE) / COUNT(DISTINCT c.who) AS value
FROM activation_rate_cohort AS c
LEFT JOIN activation_rate_converted AS r
  ON r.who = c.who AND r.bucket = c.bucket
GROUP BY
  c.bucket
