-- case: retention_m1 default: 2024-03-01..2024-03-31, day, Europe/Paris
/* metric retention_m1 (retention): Month-1 retention; 2024-03-01..2024-03-31 in Europe/Paris, grain month, all tenants */
WITH retention_m1_start_events /* retention_m1: start events in the range, persons resolved through merges */ AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    CAST(DATE_TRUNC(
      'month',
      CAST('1970-01-01' AS DATE) + CAST((
        EPOCH_US(r.timestamp) + CASE
          WHEN EPOCH_US(r.timestamp) < 1711846800000000
          THEN 3600000000
          ELSE 7200000000
        END
      ) // 86400000000 AS INT)
    ) AS DATE) AS bucket
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMPTZ)
      AND r.timestamp < CAST('2024-03-31 22:00:00+00' AS TIMESTAMPTZ)
    )
    AND r.event IN ('signed_up')
), retention_m1_cohort /* retention_m1: cohort members (first start event in the range) */ AS (
  SELECT
    who,
    ts AS started,
    bucket
  FROM (
    SELECT
      *,
      ROW_NUMBER() OVER (PARTITION BY who ORDER BY ts) AS nth
    FROM retention_m1_start_events
  ) AS s
  WHERE
    nth = 1
), retention_m1_returns /* retention_m1: return events up to period 1 of the last cohort */ AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    CAST('1970-01-01' AS DATE) + CAST((
      EPOCH_US(r.timestamp) + CASE
        WHEN EPOCH_US(r.timestamp) < 1711846800000000
        THEN 3600000000
        ELSE 7200000000
      END
    ) // 86400000000 AS INT) AS day
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMPTZ)
      AND r.timestamp < CAST('2024-07-02 22:00:00+00' AS TIMESTAMPTZ)
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
), retention_m1_returned /* retention_m1: members returning on period 1 */ AS (
  SELECT DISTINCT
    c.who,
    c.bucket
  FROM retention_m1_cohort AS c
  JOIN retention_m1_returns AS x
    ON x.who = c.who
  WHERE
    EXTRACT(YEAR FROM x.day) * 12 + EXTRACT(MONTH FROM x.day) - (
      EXTRACT(YEAR FROM c.bucket) * 12 + EXTRACT(MONTH FROM c.bucket)
    ) = 1
)
SELECT
  c.bucket AS bucket,
  CAST(COUNT(DISTINCT r.who) AS DOUBLE) / COUNT(DISTINCT c.who) AS value
FROM retention_m1_cohort AS c
LEFT JOIN retention_m1_returned AS r
  ON r.who = c.who AND r.bucket = c.bucket
GROUP BY
  c.bucket
