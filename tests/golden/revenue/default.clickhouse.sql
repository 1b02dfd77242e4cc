-- case: revenue default: 2024-03-01..2024-03-31, day, Europe/Paris
/* metric revenue (sum): Revenue; 2024-03-01..2024-03-31 in Europe/Paris, grain day, all tenants */
WITH revenue_rows /* revenue: orders where NOT COALESCE(test, FALSE) AND cancelled_at IS NULL in the range */ AS (
  SELECT
    r.created_at AS ts,
    toDate(r.created_at, 'Europe/Paris') AS bucket,
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
      r.created_at >= toDateTime64('2024-02-29 23:00:00', 6, 'UTC')
      AND r.created_at < toDateTime64('2024-03-31 22:00:00', 6, 'UTC')
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
