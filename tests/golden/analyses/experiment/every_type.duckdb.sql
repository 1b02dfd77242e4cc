-- case: experiment every_type: {'from': '2024-03-04', 'to': '2024-03-24', 'experiment': 'checkout-test', 'timezone': 'Europe/Paris', 'metrics': [{'name': 'bought', 'label': 'Purchase', 'type': 'conversion', 'event': 'purchase', 'window_days': 3, 'where': ['properties.amount > 1']}, {'name': 'per_order', 'type': 'ratio', 'event': 'purchase', 'property': 'amount', 'denominator': 'purchase'}, {'name': 'back', 'type': 'retention', 'week': 2, 'cuped': False}]}
-- statement exposures
/* analysis experiment, exposures: 2024-03-04..2024-03-24 in Europe/Paris, all tenants */
WITH exposure AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    COALESCE(
      JSON_EXTRACT_STRING(r.properties, '$."$feature_flag"'),
      JSON_EXTRACT_STRING(r.properties, '$."experiment_id"'),
      JSON_EXTRACT_STRING(r.properties, '$."experimentId"')
    ) AS key,
    COALESCE(
      JSON_EXTRACT_STRING(r.properties, '$."$feature_flag_response"'),
      JSON_EXTRACT_STRING(r.properties, '$."variation_id"'),
      JSON_EXTRACT_STRING(r.properties, '$."variationId"')
    ) AS variant
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= CAST('2024-03-03 23:00:00+00' AS TIMESTAMPTZ)
      AND r.timestamp < CAST('2024-03-24 23:00:00+00' AS TIMESTAMPTZ)
    )
    AND (
      r.event IN (
        '$feature_flag_called',
        '$experiment_exposure',
        'Experiment Viewed',
        'experiment_viewed'
      )
      AND NOT COALESCE(
        JSON_EXTRACT_STRING(r.properties, '$."$feature_flag_response"'),
        JSON_EXTRACT_STRING(r.properties, '$."variation_id"'),
        JSON_EXTRACT_STRING(r.properties, '$."variationId"')
      ) IS NULL
      AND COALESCE(
        JSON_EXTRACT_STRING(r.properties, '$."$feature_flag"'),
        JSON_EXTRACT_STRING(r.properties, '$."experiment_id"'),
        JSON_EXTRACT_STRING(r.properties, '$."experimentId"')
      ) = 'checkout-test'
    )
), assigned AS (
  SELECT
    who,
    MIN(ts) AS first_ts,
    MIN(variant) AS chosen,
    COUNT(DISTINCT variant) AS variants
  FROM exposure
  GROUP BY
    who
)
SELECT
  CASE WHEN variants = 1 THEN chosen END AS variant,
  COUNT(*) AS persons
FROM assigned
GROUP BY
  CASE WHEN variants = 1 THEN chosen END;
-- statement metric_0
/* analysis experiment, metric_0: 2024-03-04..2024-03-24 in Europe/Paris, all tenants */
WITH exposure AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    COALESCE(
      JSON_EXTRACT_STRING(r.properties, '$."$feature_flag"'),
      JSON_EXTRACT_STRING(r.properties, '$."experiment_id"'),
      JSON_EXTRACT_STRING(r.properties, '$."experimentId"')
    ) AS key,
    COALESCE(
      JSON_EXTRACT_STRING(r.properties, '$."$feature_flag_response"'),
      JSON_EXTRACT_STRING(r.properties, '$."variation_id"'),
      JSON_EXTRACT_STRING(r.properties, '$."variationId"')
    ) AS variant
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= CAST('2024-03-03 23:00:00+00' AS TIMESTAMPTZ)
      AND r.timestamp < CAST('2024-03-24 23:00:00+00' AS TIMESTAMPTZ)
    )
    AND (
      r.event IN (
        '$feature_flag_called',
        '$experiment_exposure',
        'Experiment Viewed',
        'experiment_viewed'
      )
      AND NOT COALESCE(
        JSON_EXTRACT_STRING(r.properties, '$."$feature_flag_response"'),
        JSON_EXTRACT_STRING(r.properties, '$."variation_id"'),
        JSON_EXTRACT_STRING(r.properties, '$."variationId"')
      ) IS NULL
      AND COALESCE(
        JSON_EXTRACT_STRING(r.properties, '$."$feature_flag"'),
        JSON_EXTRACT_STRING(r.properties, '$."experiment_id"'),
        JSON_EXTRACT_STRING(r.properties, '$."experimentId"')
      ) = 'checkout-test'
    )
), assigned AS (
  SELECT
    who,
    MIN(ts) AS first_ts,
    MIN(variant) AS chosen,
    COUNT(DISTINCT variant) AS variants
  FROM exposure
  GROUP BY
    who
), measured AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    CASE
      WHEN r.event = 'purchase'
      AND (
        JSON_EXTRACT_STRING(r.properties, '$."amount"') > 1
      )
      THEN TRUE
      ELSE FALSE
    END AS is_num,
    CASE WHEN FALSE THEN TRUE ELSE FALSE END AS is_den,
    1 AS value
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= CAST('2024-02-18 23:00:00+00' AS TIMESTAMPTZ)
      AND r.timestamp < CAST('2024-03-24 23:00:00+00' AS TIMESTAMPTZ)
    )
    AND (
      (
        r.event = 'purchase'
        AND (
          JSON_EXTRACT_STRING(r.properties, '$."amount"') > 1
        )
      )
      OR FALSE
    )
), per_person AS (
  SELECT
    x.chosen AS variant,
    x.first_ts AS first_ts,
    MAX(
      CASE
        WHEN m.ts >= x.first_ts AND m.ts < x.first_ts + INTERVAL '259200 seconds' AND m.is_num
        THEN 1
        ELSE 0
      END
    ) AS post,
    0 AS den,
    MAX(
      CASE
        WHEN m.ts >= x.first_ts + INTERVAL '-1209600 seconds'
        AND m.ts < x.first_ts
        AND m.is_num
        THEN 1
        ELSE 0
      END
    ) AS pre
  FROM assigned AS x
  LEFT JOIN measured AS m
    ON m.who = x.who
  WHERE
    x.variants = 1
  GROUP BY
    x.who,
    x.chosen,
    x.first_ts
)
SELECT
  variant,
  day,
  COUNT(*) AS n,
  SUM(post) AS post_sum,
  SUM(post * post) AS post_squares,
  SUM(den) AS den_sum,
  SUM(den * den) AS den_squares,
  SUM(post * den) AS post_den,
  SUM(pre) AS pre_sum,
  SUM(pre * pre) AS pre_squares,
  SUM(post * pre) AS post_pre
FROM (
  SELECT
    *,
    CAST(TIMEZONE('Europe/Paris', first_ts) AS DATE) AS day
  FROM per_person
) AS p
GROUP BY
  variant,
  day
ORDER BY
  variant NULLS FIRST,
  day NULLS FIRST;
-- statement metric_1
/* analysis experiment, metric_1: 2024-03-04..2024-03-24 in Europe/Paris, all tenants */
WITH exposure AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    COALESCE(
      JSON_EXTRACT_STRING(r.properties, '$."$feature_flag"'),
      JSON_EXTRACT_STRING(r.properties, '$."experiment_id"'),
      JSON_EXTRACT_STRING(r.properties, '$."experimentId"')
    ) AS key,
    COALESCE(
      JSON_EXTRACT_STRING(r.properties, '$."$feature_flag_response"'),
      JSON_EXTRACT_STRING(r.properties, '$."variation_id"'),
      JSON_EXTRACT_STRING(r.properties, '$."variationId"')
    ) AS variant
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= CAST('2024-03-03 23:00:00+00' AS TIMESTAMPTZ)
      AND r.timestamp < CAST('2024-03-24 23:00:00+00' AS TIMESTAMPTZ)
    )
    AND (
      r.event IN (
        '$feature_flag_called',
        '$experiment_exposure',
        'Experiment Viewed',
        'experiment_viewed'
      )
      AND NOT COALESCE(
        JSON_EXTRACT_STRING(r.properties, '$."$feature_flag_response"'),
        JSON_EXTRACT_STRING(r.properties, '$."variation_id"'),
        JSON_EXTRACT_STRING(r.properties, '$."variationId"')
      ) IS NULL
      AND COALESCE(
        JSON_EXTRACT_STRING(r.properties, '$."$feature_flag"'),
        JSON_EXTRACT_STRING(r.properties, '$."experiment_id"'),
        JSON_EXTRACT_STRING(r.properties, '$."experimentId"')
      ) = 'checkout-test'
    )
), assigned AS (
  SELECT
    who,
    MIN(ts) AS first_ts,
    MIN(variant) AS chosen,
    COUNT(DISTINCT variant) AS variants
  FROM exposure
  GROUP BY
    who
), measured AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    CASE WHEN r.event = 'purchase' THEN TRUE ELSE FALSE END AS is_num,
    CASE WHEN r.event = 'purchase' THEN TRUE ELSE FALSE END AS is_den,
    TRY_CAST(JSON_EXTRACT_STRING(r.properties, '$."amount"') AS DOUBLE) AS value
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= CAST('2024-02-18 23:00:00+00' AS TIMESTAMPTZ)
      AND r.timestamp < CAST('2024-03-24 23:00:00+00' AS TIMESTAMPTZ)
    )
    AND (
      r.event = 'purchase' OR r.event = 'purchase'
    )
), per_person AS (
  SELECT
    x.chosen AS variant,
    x.first_ts AS first_ts,
    COALESCE(
      SUM(
        CASE
          WHEN m.ts >= x.first_ts
          AND m.ts < CAST('2024-03-24 23:00:00+00' AS TIMESTAMPTZ)
          AND m.is_num
          THEN m.value
          ELSE 0
        END
      ),
      0
    ) AS post,
    COALESCE(
      SUM(
        CASE
          WHEN m.ts >= x.first_ts
          AND m.ts < CAST('2024-03-24 23:00:00+00' AS TIMESTAMPTZ)
          AND m.is_den
          THEN 1
          ELSE 0
        END
      ),
      0
    ) AS den,
    COALESCE(
      SUM(
        CASE
          WHEN m.ts >= x.first_ts + INTERVAL '-1209600 seconds'
          AND m.ts < x.first_ts
          AND m.is_num
          THEN m.value
          ELSE 0
        END
      ),
      0
    ) AS pre
  FROM assigned AS x
  LEFT JOIN measured AS m
    ON m.who = x.who
  WHERE
    x.variants = 1
  GROUP BY
    x.who,
    x.chosen,
    x.first_ts
)
SELECT
  variant,
  day,
  COUNT(*) AS n,
  SUM(post) AS post_sum,
  SUM(post * post) AS post_squares,
  SUM(den) AS den_sum,
  SUM(den * den) AS den_squares,
  SUM(post * den) AS post_den,
  SUM(pre) AS pre_sum,
  SUM(pre * pre) AS pre_squares,
  SUM(post * pre) AS post_pre
FROM (
  SELECT
    *,
    CAST(TIMEZONE('Europe/Paris', first_ts) AS DATE) AS day
  FROM per_person
) AS p
GROUP BY
  variant,
  day
ORDER BY
  variant NULLS FIRST,
  day NULLS FIRST;
-- statement metric_2
/* analysis experiment, metric_2: 2024-03-04..2024-03-24 in Europe/Paris, all tenants */
WITH exposure AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    COALESCE(
      JSON_EXTRACT_STRING(r.properties, '$."$feature_flag"'),
      JSON_EXTRACT_STRING(r.properties, '$."experiment_id"'),
      JSON_EXTRACT_STRING(r.properties, '$."experimentId"')
    ) AS key,
    COALESCE(
      JSON_EXTRACT_STRING(r.properties, '$."$feature_flag_response"'),
      JSON_EXTRACT_STRING(r.properties, '$."variation_id"'),
      JSON_EXTRACT_STRING(r.properties, '$."variationId"')
    ) AS variant
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= CAST('2024-03-03 23:00:00+00' AS TIMESTAMPTZ)
      AND r.timestamp < CAST('2024-03-24 23:00:00+00' AS TIMESTAMPTZ)
    )
    AND (
      r.event IN (
        '$feature_flag_called',
        '$experiment_exposure',
        'Experiment Viewed',
        'experiment_viewed'
      )
      AND NOT COALESCE(
        JSON_EXTRACT_STRING(r.properties, '$."$feature_flag_response"'),
        JSON_EXTRACT_STRING(r.properties, '$."variation_id"'),
        JSON_EXTRACT_STRING(r.properties, '$."variationId"')
      ) IS NULL
      AND COALESCE(
        JSON_EXTRACT_STRING(r.properties, '$."$feature_flag"'),
        JSON_EXTRACT_STRING(r.properties, '$."experiment_id"'),
        JSON_EXTRACT_STRING(r.properties, '$."experimentId"')
      ) = 'checkout-test'
    )
), assigned AS (
  SELECT
    who,
    MIN(ts) AS first_ts,
    MIN(variant) AS chosen,
    COUNT(DISTINCT variant) AS variants
  FROM exposure
  GROUP BY
    who
), measured AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    CASE
      WHEN NOT r.event IN (
        '$create_alias',
        '$feature_flag_called',
        '$groupidentify',
        '$identify',
        '$pageleave',
        '$set',
        'invoice_paid'
      )
      THEN TRUE
      ELSE FALSE
    END AS is_num,
    CASE WHEN FALSE THEN TRUE ELSE FALSE END AS is_den,
    1 AS value
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= CAST('2024-02-18 23:00:00+00' AS TIMESTAMPTZ)
      AND r.timestamp < CAST('2024-03-24 23:00:00+00' AS TIMESTAMPTZ)
    )
    AND (
      NOT r.event IN (
        '$create_alias',
        '$feature_flag_called',
        '$groupidentify',
        '$identify',
        '$pageleave',
        '$set',
        'invoice_paid'
      )
      OR FALSE
    )
), per_person AS (
  SELECT
    x.chosen AS variant,
    x.first_ts AS first_ts,
    MAX(
      CASE
        WHEN m.ts >= x.first_ts + INTERVAL '1209600 seconds'
        AND m.ts < x.first_ts + INTERVAL '1814400 seconds'
        AND m.is_num
        THEN 1
        ELSE 0
      END
    ) AS post,
    0 AS den,
    0 AS pre
  FROM assigned AS x
  LEFT JOIN measured AS m
    ON m.who = x.who
  WHERE
    x.variants = 1
  GROUP BY
    x.who,
    x.chosen,
    x.first_ts
)
SELECT
  variant,
  day,
  COUNT(*) AS n,
  SUM(post) AS post_sum,
  SUM(post * post) AS post_squares,
  SUM(den) AS den_sum,
  SUM(den * den) AS den_squares,
  SUM(post * den) AS post_den,
  SUM(pre) AS pre_sum,
  SUM(pre * pre) AS pre_squares,
  SUM(post * pre) AS post_pre
FROM (
  SELECT
    *,
    CAST(TIMEZONE('Europe/Paris', first_ts) AS DATE) AS day
  FROM per_person
) AS p
GROUP BY
  variant,
  day
ORDER BY
  variant NULLS FIRST,
  day NULLS FIRST;
