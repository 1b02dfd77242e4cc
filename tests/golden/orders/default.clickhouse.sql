-- case: orders default: 2024-03-01..2024-03-31, day, Europe/Paris
/* metric orders (count): Orders; 2024-03-01..2024-03-31 in Europe/Paris, grain day, all tenants */
WITH orders_rows /* orders: orders where NOT COALESCE(test, FALSE) AND cancelled_at IS NULL in the range */ AS (
  SELECT
    r.created_at AS ts,
    toDate(r.created_at, 'Europe/Paris') AS bucket
  FROM orders AS r
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
  COUNT(*) AS value
FROM orders_rows
GROUP BY
  bucket
