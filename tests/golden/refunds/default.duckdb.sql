-- case: refunds default: 2024-03-01..2024-03-31, day, Europe/Paris
/* metric refunds (sum): Refunds; 2024-03-01..2024-03-31 in Europe/Paris, grain day, all tenants */
WITH refunds_rows /* refunds: refunds in the range */ AS (
  SELECT
    r.created_at AS ts,
    CAST('1970-01-01' AS DATE) + CAST((
      EPOCH_US(r.created_at) + CASE
        WHEN EPOCH_US(r.created_at) < 1711846800000000
        THEN 3600000000
        ELSE 7200000000
      END
    ) // 86400000000 AS INT) AS bucket,
    r.amount AS v,
    r.currency AS currency
  FROM refunds AS r
  WHERE
    r.created_at >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMPTZ)
    AND r.created_at < CAST('2024-03-31 22:00:00+00' AS TIMESTAMPTZ)
)
SELECT
  bucket,
  currency,
  SUM(v) AS value
FROM refunds_rows
GROUP BY
  bucket,
  currency
