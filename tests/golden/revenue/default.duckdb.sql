-- case: revenue default: 2024-03-01..2024-03-31, day, Europe/Paris
/* metric revenue (sum): Revenue; 2024-03-01..2024-03-31 in Europe/Paris, grain day, all tenants */
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
)
SELECT
  bucket,
  currency,
  SUM(v) AS value
FROM revenue_rows
GROUP BY
  bucket,
  currency
