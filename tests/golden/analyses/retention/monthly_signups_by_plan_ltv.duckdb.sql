-- case: monthly_signups_by_plan_ltv
-- statement matrix
/* analysis retention, matrix: 2024-09-01..2024-10-31 in Europe/Paris, tenants t1 */
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
          WHEN EPOCH_US(r.timestamp) < 1743296400000000
          THEN 3600000000
          WHEN EPOCH_US(r.timestamp) < 1761440400000000
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
        AND r.timestamp < CAST('2025-10-31 23:00:00+00' AS TIMESTAMPTZ)
      )
      AND r.tenant_id IN ('t1')
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
), returns_month /* retention: persons' active months */ AS (
  SELECT DISTINCT
    who,
    EXTRACT(YEAR FROM day) * 12 + EXTRACT(MONTH FROM day) AS idx
  FROM return_days
), start_events /* retention: signed_up events in the range, persons resolved through merges, local days */ AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    r.plan AS plan,
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
    AND r.tenant_id IN ('t1')
    AND r.event IN ('signed_up')
), members_month /* retention: cohort members by month (first start event in the range) */ AS (
  SELECT
    who,
    cohort AS cohort,
    EXTRACT(YEAR FROM cohort) * 12 + EXTRACT(MONTH FROM cohort) AS idx,
    started,
    plan
  FROM (
    SELECT
      who,
      CAST(DATE_TRUNC('month', day) AS DATE) AS cohort,
      ts AS started,
      plan,
      ROW_NUMBER() OVER (PARTITION BY who ORDER BY ts, event_id) AS nth
    FROM start_events
  ) AS s
  WHERE
    nth = 1
), returned_matrix /* retention: members returning in month N */ AS (
  SELECT
    'matrix' AS part,
    c.cohort AS cohort,
    c.plan AS plan,
    x.idx - c.idx AS period,
    COUNT(*) AS persons
  FROM members_month AS c
  JOIN returns_month AS x
    ON x.who = c.who
  WHERE
    x.idx - c.idx BETWEEN 1 AND 12
  GROUP BY
    c.cohort,
    c.plan,
    x.idx - c.idx
), members_day /* retention: cohort members by day (first start event in the range) */ AS (
  SELECT
    who,
    cohort AS cohort,
    cohort - CAST('1970-01-01' AS DATE) AS idx,
    started,
    plan
  FROM (
    SELECT
      who,
      day AS cohort,
      ts AS started,
      plan,
      ROW_NUMBER() OVER (PARTITION BY who ORDER BY ts, event_id) AS nth
    FROM start_events
  ) AS s
  WHERE
    nth = 1
), returned_day_n /* retention: members returning in day N */ AS (
  SELECT
    'day_n' AS part,
    c.cohort AS cohort,
    c.plan AS plan,
    x.idx - c.idx AS period,
    COUNT(*) AS persons
  FROM members_day AS c
  JOIN returns_day AS x
    ON x.who = c.who
  WHERE
    x.idx - c.idx IN (1, 7, 14, 30, 60, 90)
  GROUP BY
    c.cohort,
    c.plan,
    x.idx - c.idx
)
SELECT
  *
FROM (
  SELECT
    'matrix' AS part,
    cohort,
    plan,
    0 AS period,
    COUNT(*) AS persons
  FROM members_month
  GROUP BY
    cohort,
    plan
  UNION ALL
  SELECT
    *
  FROM returned_matrix
  UNION ALL
  SELECT
    'day_n' AS part,
    cohort,
    plan,
    0 AS period,
    COUNT(*) AS persons
  FROM members_day
  GROUP BY
    cohort,
    plan
  UNION ALL
  SELECT
    *
  FROM returned_day_n
) AS u;
-- statement ltv
/* analysis retention, ltv: 2024-09-01..2024-10-31 in Europe/Paris, tenants t1 */
WITH start_events /* retention: signed_up events in the range, persons resolved through merges, local days */ AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    r.plan AS plan,
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
    AND r.tenant_id IN ('t1')
    AND r.event IN ('signed_up')
), members_month /* retention: cohort members by month (first start event in the range) */ AS (
  SELECT
    who,
    cohort AS cohort,
    EXTRACT(YEAR FROM cohort) * 12 + EXTRACT(MONTH FROM cohort) AS idx,
    started,
    plan
  FROM (
    SELECT
      who,
      CAST(DATE_TRUNC('month', day) AS DATE) AS cohort,
      ts AS started,
      plan,
      ROW_NUMBER() OVER (PARTITION BY who ORDER BY ts, event_id) AS nth
    FROM start_events
  ) AS s
  WHERE
    nth = 1
), orders /* retention: non-test, non-cancelled orders net of refunds, buyers resolved through merges */ AS (
  SELECT
    COALESCE(o.person_id, x.buyer) AS who,
    x.ts,
    x.idx,
    x.currency,
    x.amount
  FROM (
    SELECT
      r.created_at AS ts,
      r.person_id AS buyer,
      r.currency AS currency,
      r.total_price - COALESCE(rf.refunded, 0) AS amount,
      EXTRACT(YEAR FROM CAST('1970-01-01' AS DATE) + CAST((
        EPOCH_US(r.created_at) + CASE
          WHEN EPOCH_US(r.created_at) < 1729990800000000
          THEN 7200000000
          WHEN EPOCH_US(r.created_at) < 1743296400000000
          THEN 3600000000
          WHEN EPOCH_US(r.created_at) < 1761440400000000
          THEN 7200000000
          ELSE 3600000000
        END
      ) // 86400000000 AS INT)) * 12 + EXTRACT(MONTH FROM CAST('1970-01-01' AS DATE) + CAST((
        EPOCH_US(r.created_at) + CASE
          WHEN EPOCH_US(r.created_at) < 1729990800000000
          THEN 7200000000
          WHEN EPOCH_US(r.created_at) < 1743296400000000
          THEN 3600000000
          WHEN EPOCH_US(r.created_at) < 1761440400000000
          THEN 7200000000
          ELSE 3600000000
        END
      ) // 86400000000 AS INT)) AS idx
    FROM orders AS r
    LEFT JOIN (
      SELECT
        tenant_id,
        order_id,
        SUM(amount) AS refunded
      FROM refunds AS r
      WHERE
        r.tenant_id IN ('t1')
      GROUP BY
        tenant_id,
        order_id
    ) AS rf
      ON rf.tenant_id = r.tenant_id AND rf.order_id = r.order_id
    WHERE
      (
        r.created_at >= CAST('2024-08-31 22:00:00+00' AS TIMESTAMPTZ)
        AND r.created_at < CAST('2025-10-31 23:00:00+00' AS TIMESTAMPTZ)
      )
      AND r.tenant_id IN ('t1')
      AND (
        NOT COALESCE(r.test, FALSE) AND r.cancelled_at IS NULL
      )
  ) AS x
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = x.buyer
  WHERE
    NOT x.buyer IS NULL
)
SELECT
  c.cohort AS cohort,
  c.plan AS plan,
  x.idx - c.idx AS period,
  x.currency,
  SUM(x.amount) AS revenue
FROM members_month AS c
JOIN orders AS x
  ON x.who = c.who
WHERE
  x.ts >= c.started AND x.idx - c.idx BETWEEN 0 AND 12
GROUP BY
  c.cohort,
  c.plan,
  x.idx - c.idx,
  x.currency;
