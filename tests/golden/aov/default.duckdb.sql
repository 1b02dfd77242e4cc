-- case: aov default: 2024-03-01..2024-03-31, day, Europe/Paris
/* metric aov (ratio): Average order value; 2024-03-01..2024-03-31 in Europe/Paris, grain day, all tenants */
WITH revenue_rows /* revenue: orders where NOT COALESCE(test, FALSE) AND cancelled_at IS NULL in the range */ AS (
  SELECT
    r.created_at AS ts,
    CAST('1970-01-01' AS DATE) + CAST((
      EPOCH_US(r.created_at) + CASE
        WHEN EPOCH_US(r.created_at) < 1711846800000000
        THEN 3600000000
        ELSE 7200000000
      END
    ) // 86400000000 AS INT) AS bucket,
    r.total_price - COALESCE(rf.refunded, 0) AS v,
    r.currency AS currency
  FROM orders AS r
  LEFT JOIN (
    SELECT
      tenant_id,
      order_id,
      SUM(amount) AS refunded
    FROM refunds AS r
    GROUP BY
      tenant_id,
      order_id
  ) AS rf
    ON rf.tenant_id = r.tenant_id AND rf.order_id = r.order_id
  WHERE
    (
      r.created_at >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMPTZ)
      AND r.created_at < CAST('2024-03-31 22:00:00+00' AS TIMESTAMPTZ)
    )
    AND (
      NOT COALESCE(r.test, FALSE) AND r.cancelled_at IS NULL
    )
), revenue_value /* aov: part revenue (sum) */ AS (
  SELECT
    bucket,
    currency,
    SUM(v) AS value
  FROM revenue_rows
  GROUP BY
    bucket,
    currency
), orders_rows /* orders: orders where NOT COALESCE(test, FALSE) AND cancelled_at IS NULL in the range */ AS (
  SELECT
    r.created_at AS ts,
    CAST('1970-01-01' AS DATE) + CAST((
      EPOCH_US(r.created_at) + CASE
        WHEN EPOCH_US(r.created_at) < 1711846800000000
        THEN 3600000000
        ELSE 7200000000
      END
    ) // 86400000000 AS INT) AS bucket,
    r.currency AS currency
  FROM orders AS r
  WHERE
    (
      r.created_at >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMPTZ)
      AND r.created_at < CAST('2024-03-31 22:00:00+00' AS TIMESTAMPTZ)
    )
    AND (
      NOT COALESCE(r.test, FALSE) AND r.cancelled_at IS NULL
    )
), orders_value /* aov: part orders (count) */ AS (
  SELECT
    bucket,
    currency,
    COUNT(*) AS value
  FROM orders_rows
  GROUP BY
    bucket,
    currency
), aov_parts /* aov: parts side by side */ AS (
  SELECT
    bucket,
    currency,
    CAST(value AS DOUBLE) AS m_revenue,
    CAST(NULL AS DOUBLE) AS m_orders
  FROM revenue_value
  UNION ALL
  SELECT
    bucket,
    currency,
    CAST(NULL AS DOUBLE) AS m_revenue,
    CAST(value AS DOUBLE) AS m_orders
  FROM orders_value
)
SELECT
  bucket,
  currency,
  COALESCE(MAX(m_revenue), 0) / NULLIF(COALESCE(MAX(m_orders), 0), 0) AS value
FROM aov_parts
GROUP BY
  bucket,
  currency
