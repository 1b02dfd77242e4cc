-- case: experiment every_type: {'from': '2024-03-04', 'to': '2024-03-24', 'experiment': 'checkout-test', 'timezone': 'Europe/Paris', 'metrics': [{'name': 'bought', 'label': 'Purchase', 'type': 'conversion', 'event': 'purchase', 'window_days': 3, 'where': ['properties.amount > 1']}, {'name': 'per_order', 'type': 'ratio', 'event': 'purchase', 'property': 'amount', 'denominator': 'purchase'}, {'name': 'back', 'type': 'retention', 'week': 2, 'cuped': False}]}
-- statement exposures
/* analysis experiment, exposures: 2024-03-04..2024-03-24 in Europe/Paris, all tenants */
WITH exposure AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    COALESCE(
      CASE
        WHEN JSONType(r.properties, '$feature_flag') = 'String'
        THEN JSONExtractString(r.properties, '$feature_flag')
        WHEN JSONType(r.properties, '$feature_flag') IN ('Null', 'Object', 'Array')
        THEN NULL
        ELSE nullIf(JSONExtractRaw(r.properties, '$feature_flag'), '')
      END,
      CASE
        WHEN JSONType(r.properties, 'experiment_id') = 'String'
        THEN JSONExtractString(r.properties, 'experiment_id')
        WHEN JSONType(r.properties, 'experiment_id') IN ('Null', 'Object', 'Array')
        THEN NULL
        ELSE nullIf(JSONExtractRaw(r.properties, 'experiment_id'), '')
      END,
      CASE
        WHEN JSONType(r.properties, 'experimentId') = 'String'
        THEN JSONExtractString(r.properties, 'experimentId')
        WHEN JSONType(r.properties, 'experimentId') IN ('Null', 'Object', 'Array')
        THEN NULL
        ELSE nullIf(JSONExtractRaw(r.properties, 'experimentId'), '')
      END
    ) AS key,
    COALESCE(
      CASE
        WHEN JSONType(r.properties, '$feature_flag_response') = 'String'
        THEN JSONExtractString(r.properties, '$feature_flag_response')
        WHEN JSONType(r.properties, '$feature_flag_response') IN ('Null', 'Object', 'Array')
        THEN NULL
        ELSE nullIf(JSONExtractRaw(r.properties, '$feature_flag_response'), '')
      END,
      CASE
        WHEN JSONType(r.properties, 'variation_id') = 'String'
        THEN JSONExtractString(r.properties, 'variation_id')
        WHEN JSONType(r.properties, 'variation_id') IN ('Null', 'Object', 'Array')
        THEN NULL
        ELSE nullIf(JSONExtractRaw(r.properties, 'variation_id'), '')
      END,
      CASE
        WHEN JSONType(r.properties, 'variationId') = 'String'
        THEN JSONExtractString(r.properties, 'variationId')
        WHEN JSONType(r.properties, 'variationId') IN ('Null', 'Object', 'Array')
        THEN NULL
        ELSE nullIf(JSONExtractRaw(r.properties, 'variationId'), '')
      END
    ) AS variant
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= toDateTime64('2024-03-03 23:00:00', 6, 'UTC')
      AND r.timestamp < toDateTime64('2024-03-24 23:00:00', 6, 'UTC')
    )
    AND (
      r.event IN (
        '$feature_flag_called',
        '$experiment_exposure',
        'Experiment Viewed',
        'experiment_viewed'
      )
      AND NOT (
        COALESCE(
          CASE
            WHEN JSONType(r.properties, '$feature_flag_response') = 'String'
            THEN JSONExtractString(r.properties, '$feature_flag_response')
            WHEN JSONType(r.properties, '$feature_flag_response') IN ('Null', 'Object', 'Array')
            THEN NULL
            ELSE nullIf(JSONExtractRaw(r.properties, '$feature_flag_response'), '')
          END,
          CASE
            WHEN JSONType(r.properties, 'variation_id') = 'String'
            THEN JSONExtractString(r.properties, 'variation_id')
            WHEN JSONType(r.properties, 'variation_id') IN ('Null', 'Object', 'Array')
            THEN NULL
            ELSE nullIf(JSONExtractRaw(r.properties, 'variation_id'), '')
          END,
          CASE
            WHEN JSONType(r.properties, 'variationId') = 'String'
            THEN JSONExtractString(r.properties, 'variationId')
            WHEN JSONType(r.properties, 'variationId') IN ('Null', 'Object', 'Array')
            THEN NULL
            ELSE nullIf(JSONExtractRaw(r.properties, 'variationId'), '')
          END
        ) IS NULL
      )
      AND COALESCE(
        CASE
          WHEN JSONType(r.properties, '$feature_flag') = 'String'
          THEN JSONExtractString(r.properties, '$feature_flag')
          WHEN JSONType(r.properties, '$feature_flag') IN ('Null', 'Object', 'Array')
          THEN NULL
          ELSE nullIf(JSONExtractRaw(r.properties, '$feature_flag'), '')
        END,
        CASE
          WHEN JSONType(r.properties, 'experiment_id') = 'String'
          THEN JSONExtractString(r.properties, 'experiment_id')
          WHEN JSONType(r.properties, 'experiment_id') IN ('Null', 'Object', 'Array')
          THEN NULL
          ELSE nullIf(JSONExtractRaw(r.properties, 'experiment_id'), '')
        END,
        CASE
          WHEN JSONType(r.properties, 'experimentId') = 'String'
          THEN JSONExtractString(r.properties, 'experimentId')
          WHEN JSONType(r.properties, 'experimentId') IN ('Null', 'Object', 'Array')
          THEN NULL
          ELSE nullIf(JSONExtractRaw(r.properties, 'experimentId'), '')
        END
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
      CASE
        WHEN JSONType(r.properties, '$feature_flag') = 'String'
        THEN JSONExtractString(r.properties, '$feature_flag')
        WHEN JSONType(r.properties, '$feature_flag') IN ('Null', 'Object', 'Array')
        THEN NULL
        ELSE nullIf(JSONExtractRaw(r.properties, '$feature_flag'), '')
      END,
      CASE
        WHEN JSONType(r.properties, 'experiment_id') = 'String'
        THEN JSONExtractString(r.properties, 'experiment_id')
        WHEN JSONType(r.properties, 'experiment_id') IN ('Null', 'Object', 'Array')
        THEN NULL
        ELSE nullIf(JSONExtractRaw(r.properties, 'experiment_id'), '')
      END,
      CASE
        WHEN JSONType(r.properties, 'experimentId') = 'String'
        THEN JSONExtractString(r.properties, 'experimentId')
        WHEN JSONType(r.properties, 'experimentId') IN ('Null', 'Object', 'Array')
        THEN NULL
        ELSE nullIf(JSONExtractRaw(r.properties, 'experimentId'), '')
      END
    ) AS key,
    COALESCE(
      CASE
        WHEN JSONType(r.properties, '$feature_flag_response') = 'String'
        THEN JSONExtractString(r.properties, '$feature_flag_response')
        WHEN JSONType(r.properties, '$feature_flag_response') IN ('Null', 'Object', 'Array')
        THEN NULL
        ELSE nullIf(JSONExtractRaw(r.properties, '$feature_flag_response'), '')
      END,
      CASE
        WHEN JSONType(r.properties, 'variation_id') = 'String'
        THEN JSONExtractString(r.properties, 'variation_id')
        WHEN JSONType(r.properties, 'variation_id') IN ('Null', 'Object', 'Array')
        THEN NULL
        ELSE nullIf(JSONExtractRaw(r.properties, 'variation_id'), '')
      END,
      CASE
        WHEN JSONType(r.properties, 'variationId') = 'String'
        THEN JSONExtractString(r.properties, 'variationId')
        WHEN JSONType(r.properties, 'variationId') IN ('Null', 'Object', 'Array')
        THEN NULL
        ELSE nullIf(JSONExtractRaw(r.properties, 'variationId'), '')
      END
    ) AS variant
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= toDateTime64('2024-03-03 23:00:00', 6, 'UTC')
      AND r.timestamp < toDateTime64('2024-03-24 23:00:00', 6, 'UTC')
    )
    AND (
      r.event IN (
        '$feature_flag_called',
        '$experiment_exposure',
        'Experiment Viewed',
        'experiment_viewed'
      )
      AND NOT (
        COALESCE(
          CASE
            WHEN JSONType(r.properties, '$feature_flag_response') = 'String'
            THEN JSONExtractString(r.properties, '$feature_flag_response')
            WHEN JSONType(r.properties, '$feature_flag_response') IN ('Null', 'Object', 'Array')
            THEN NULL
            ELSE nullIf(JSONExtractRaw(r.properties, '$feature_flag_response'), '')
          END,
          CASE
            WHEN JSONType(r.properties, 'variation_id') = 'String'
            THEN JSONExtractString(r.properties, 'variation_id')
            WHEN JSONType(r.properties, 'variation_id') IN ('Null', 'Object', 'Array')
            THEN NULL
            ELSE nullIf(JSONExtractRaw(r.properties, 'variation_id'), '')
          END,
          CASE
            WHEN JSONType(r.properties, 'variationId') = 'String'
            THEN JSONExtractString(r.properties, 'variationId')
            WHEN JSONType(r.properties, 'variationId') IN ('Null', 'Object', 'Array')
            THEN NULL
            ELSE nullIf(JSONExtractRaw(r.properties, 'variationId'), '')
          END
        ) IS NULL
      )
      AND COALESCE(
        CASE
          WHEN JSONType(r.properties, '$feature_flag') = 'String'
          THEN JSONExtractString(r.properties, '$feature_flag')
          WHEN JSONType(r.properties, '$feature_flag') IN ('Null', 'Object', 'Array')
          THEN NULL
          ELSE nullIf(JSONExtractRaw(r.properties, '$feature_flag'), '')
        END,
        CASE
          WHEN JSONType(r.properties, 'experiment_id') = 'String'
          THEN JSONExtractString(r.properties, 'experiment_id')
          WHEN JSONType(r.properties, 'experiment_id') IN ('Null', 'Object', 'Array')
          THEN NULL
          ELSE nullIf(JSONExtractRaw(r.properties, 'experiment_id'), '')
        END,
        CASE
          WHEN JSONType(r.properties, 'experimentId') = 'String'
          THEN JSONExtractString(r.properties, 'experimentId')
          WHEN JSONType(r.properties, 'experimentId') IN ('Null', 'Object', 'Array')
          THEN NULL
          ELSE nullIf(JSONExtractRaw(r.properties, 'experimentId'), '')
        END
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
        CASE
          WHEN JSONType(r.properties, 'amount') = 'String'
          THEN JSONExtractString(r.properties, 'amount')
          WHEN JSONType(r.properties, 'amount') IN ('Null', 'Object', 'Array')
          THEN NULL
          ELSE nullIf(JSONExtractRaw(r.properties, 'amount'), '')
        END > 1
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
      r.timestamp >= toDateTime64('2024-02-18 23:00:00', 6, 'UTC')
      AND r.timestamp < toDateTime64('2024-03-24 23:00:00', 6, 'UTC')
    )
    AND (
      (
        r.event = 'purchase'
        AND (
          CASE
            WHEN JSONType(r.properties, 'amount') = 'String'
            THEN JSONExtractString(r.properties, 'amount')
            WHEN JSONType(r.properties, 'amount') IN ('Null', 'Object', 'Array')
            THEN NULL
            ELSE nullIf(JSONExtractRaw(r.properties, 'amount'), '')
          END > 1
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
        WHEN m.ts >= x.first_ts AND m.ts < addSeconds(x.first_ts, 259200) AND m.is_num
        THEN 1
        ELSE 0
      END
    ) AS post,
    0 AS den,
    MAX(
      CASE
        WHEN m.ts >= addSeconds(x.first_ts, -1209600) AND m.ts < x.first_ts AND m.is_num
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
    toDate(first_ts, 'Europe/Paris') AS day
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
      CASE
        WHEN JSONType(r.properties, '$feature_flag') = 'String'
        THEN JSONExtractString(r.properties, '$feature_flag')
        WHEN JSONType(r.properties, '$feature_flag') IN ('Null', 'Object', 'Array')
        THEN NULL
        ELSE nullIf(JSONExtractRaw(r.properties, '$feature_flag'), '')
      END,
      CASE
        WHEN JSONType(r.properties, 'experiment_id') = 'String'
        THEN JSONExtractString(r.properties, 'experiment_id')
        WHEN JSONType(r.properties, 'experiment_id') IN ('Null', 'Object', 'Array')
        THEN NULL
        ELSE nullIf(JSONExtractRaw(r.properties, 'experiment_id'), '')
      END,
      CASE
        WHEN JSONType(r.properties, 'experimentId') = 'String'
        THEN JSONExtractString(r.properties, 'experimentId')
        WHEN JSONType(r.properties, 'experimentId') IN ('Null', 'Object', 'Array')
        THEN NULL
        ELSE nullIf(JSONExtractRaw(r.properties, 'experimentId'), '')
      END
    ) AS key,
    COALESCE(
      CASE
        WHEN JSONType(r.properties, '$feature_flag_response') = 'String'
        THEN JSONExtractString(r.properties, '$feature_flag_response')
        WHEN JSONType(r.properties, '$feature_flag_response') IN ('Null', 'Object', 'Array')
        THEN NULL
        ELSE nullIf(JSONExtractRaw(r.properties, '$feature_flag_response'), '')
      END,
      CASE
        WHEN JSONType(r.properties, 'variation_id') = 'String'
        THEN JSONExtractString(r.properties, 'variation_id')
        WHEN JSONType(r.properties, 'variation_id') IN ('Null', 'Object', 'Array')
        THEN NULL
        ELSE nullIf(JSONExtractRaw(r.properties, 'variation_id'), '')
      END,
      CASE
        WHEN JSONType(r.properties, 'variationId') = 'String'
        THEN JSONExtractString(r.properties, 'variationId')
        WHEN JSONType(r.properties, 'variationId') IN ('Null', 'Object', 'Array')
        THEN NULL
        ELSE nullIf(JSONExtractRaw(r.properties, 'variationId'), '')
      END
    ) AS variant
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= toDateTime64('2024-03-03 23:00:00', 6, 'UTC')
      AND r.timestamp < toDateTime64('2024-03-24 23:00:00', 6, 'UTC')
    )
    AND (
      r.event IN (
        '$feature_flag_called',
        '$experiment_exposure',
        'Experiment Viewed',
        'experiment_viewed'
      )
      AND NOT (
        COALESCE(
          CASE
            WHEN JSONType(r.properties, '$feature_flag_response') = 'String'
            THEN JSONExtractString(r.properties, '$feature_flag_response')
            WHEN JSONType(r.properties, '$feature_flag_response') IN ('Null', 'Object', 'Array')
            THEN NULL
            ELSE nullIf(JSONExtractRaw(r.properties, '$feature_flag_response'), '')
          END,
          CASE
            WHEN JSONType(r.properties, 'variation_id') = 'String'
            THEN JSONExtractString(r.properties, 'variation_id')
            WHEN JSONType(r.properties, 'variation_id') IN ('Null', 'Object', 'Array')
            THEN NULL
            ELSE nullIf(JSONExtractRaw(r.properties, 'variation_id'), '')
          END,
          CASE
            WHEN JSONType(r.properties, 'variationId') = 'String'
            THEN JSONExtractString(r.properties, 'variationId')
            WHEN JSONType(r.properties, 'variationId') IN ('Null', 'Object', 'Array')
            THEN NULL
            ELSE nullIf(JSONExtractRaw(r.properties, 'variationId'), '')
          END
        ) IS NULL
      )
      AND COALESCE(
        CASE
          WHEN JSONType(r.properties, '$feature_flag') = 'String'
          THEN JSONExtractString(r.properties, '$feature_flag')
          WHEN JSONType(r.properties, '$feature_flag') IN ('Null', 'Object', 'Array')
          THEN NULL
          ELSE nullIf(JSONExtractRaw(r.properties, '$feature_flag'), '')
        END,
        CASE
          WHEN JSONType(r.properties, 'experiment_id') = 'String'
          THEN JSONExtractString(r.properties, 'experiment_id')
          WHEN JSONType(r.properties, 'experiment_id') IN ('Null', 'Object', 'Array')
          THEN NULL
          ELSE nullIf(JSONExtractRaw(r.properties, 'experiment_id'), '')
        END,
        CASE
          WHEN JSONType(r.properties, 'experimentId') = 'String'
          THEN JSONExtractString(r.properties, 'experimentId')
          WHEN JSONType(r.properties, 'experimentId') IN ('Null', 'Object', 'Array')
          THEN NULL
          ELSE nullIf(JSONExtractRaw(r.properties, 'experimentId'), '')
        END
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
    toFloat64OrNull(
      CASE
        WHEN JSONType(r.properties, 'amount') = 'String'
        THEN JSONExtractString(r.properties, 'amount')
        WHEN JSONType(r.properties, 'amount') IN ('Null', 'Object', 'Array')
        THEN NULL
        ELSE nullIf(JSONExtractRaw(r.properties, 'amount'), '')
      END
    ) AS value
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= toDateTime64('2024-02-18 23:00:00', 6, 'UTC')
      AND r.timestamp < toDateTime64('2024-03-24 23:00:00', 6, 'UTC')
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
          AND m.ts < toDateTime64('2024-03-24 23:00:00', 6, 'UTC')
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
          AND m.ts < toDateTime64('2024-03-24 23:00:00', 6, 'UTC')
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
          WHEN m.ts >= addSeconds(x.first_ts, -1209600) AND m.ts < x.first_ts AND m.is_num
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
    toDate(first_ts, 'Europe/Paris') AS day
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
      CASE
        WHEN JSONType(r.properties, '$feature_flag') = 'String'
        THEN JSONExtractString(r.properties, '$feature_flag')
        WHEN JSONType(r.properties, '$feature_flag') IN ('Null', 'Object', 'Array')
        THEN NULL
        ELSE nullIf(JSONExtractRaw(r.properties, '$feature_flag'), '')
      END,
      CASE
        WHEN JSONType(r.properties, 'experiment_id') = 'String'
        THEN JSONExtractString(r.properties, 'experiment_id')
        WHEN JSONType(r.properties, 'experiment_id') IN ('Null', 'Object', 'Array')
        THEN NULL
        ELSE nullIf(JSONExtractRaw(r.properties, 'experiment_id'), '')
      END,
      CASE
        WHEN JSONType(r.properties, 'experimentId') = 'String'
        THEN JSONExtractString(r.properties, 'experimentId')
        WHEN JSONType(r.properties, 'experimentId') IN ('Null', 'Object', 'Array')
        THEN NULL
        ELSE nullIf(JSONExtractRaw(r.properties, 'experimentId'), '')
      END
    ) AS key,
    COALESCE(
      CASE
        WHEN JSONType(r.properties, '$feature_flag_response') = 'String'
        THEN JSONExtractString(r.properties, '$feature_flag_response')
        WHEN JSONType(r.properties, '$feature_flag_response') IN ('Null', 'Object', 'Array')
        THEN NULL
        ELSE nullIf(JSONExtractRaw(r.properties, '$feature_flag_response'), '')
      END,
      CASE
        WHEN JSONType(r.properties, 'variation_id') = 'String'
        THEN JSONExtractString(r.properties, 'variation_id')
        WHEN JSONType(r.properties, 'variation_id') IN ('Null', 'Object', 'Array')
        THEN NULL
        ELSE nullIf(JSONExtractRaw(r.properties, 'variation_id'), '')
      END,
      CASE
        WHEN JSONType(r.properties, 'variationId') = 'String'
        THEN JSONExtractString(r.properties, 'variationId')
        WHEN JSONType(r.properties, 'variationId') IN ('Null', 'Object', 'Array')
        THEN NULL
        ELSE nullIf(JSONExtractRaw(r.properties, 'variationId'), '')
      END
    ) AS variant
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= toDateTime64('2024-03-03 23:00:00', 6, 'UTC')
      AND r.timestamp < toDateTime64('2024-03-24 23:00:00', 6, 'UTC')
    )
    AND (
      r.event IN (
        '$feature_flag_called',
        '$experiment_exposure',
        'Experiment Viewed',
        'experiment_viewed'
      )
      AND NOT (
        COALESCE(
          CASE
            WHEN JSONType(r.properties, '$feature_flag_response') = 'String'
            THEN JSONExtractString(r.properties, '$feature_flag_response')
            WHEN JSONType(r.properties, '$feature_flag_response') IN ('Null', 'Object', 'Array')
            THEN NULL
            ELSE nullIf(JSONExtractRaw(r.properties, '$feature_flag_response'), '')
          END,
          CASE
            WHEN JSONType(r.properties, 'variation_id') = 'String'
            THEN JSONExtractString(r.properties, 'variation_id')
            WHEN JSONType(r.properties, 'variation_id') IN ('Null', 'Object', 'Array')
            THEN NULL
            ELSE nullIf(JSONExtractRaw(r.properties, 'variation_id'), '')
          END,
          CASE
            WHEN JSONType(r.properties, 'variationId') = 'String'
            THEN JSONExtractString(r.properties, 'variationId')
            WHEN JSONType(r.properties, 'variationId') IN ('Null', 'Object', 'Array')
            THEN NULL
            ELSE nullIf(JSONExtractRaw(r.properties, 'variationId'), '')
          END
        ) IS NULL
      )
      AND COALESCE(
        CASE
          WHEN JSONType(r.properties, '$feature_flag') = 'String'
          THEN JSONExtractString(r.properties, '$feature_flag')
          WHEN JSONType(r.properties, '$feature_flag') IN ('Null', 'Object', 'Array')
          THEN NULL
          ELSE nullIf(JSONExtractRaw(r.properties, '$feature_flag'), '')
        END,
        CASE
          WHEN JSONType(r.properties, 'experiment_id') = 'String'
          THEN JSONExtractString(r.properties, 'experiment_id')
          WHEN JSONType(r.properties, 'experiment_id') IN ('Null', 'Object', 'Array')
          THEN NULL
          ELSE nullIf(JSONExtractRaw(r.properties, 'experiment_id'), '')
        END,
        CASE
          WHEN JSONType(r.properties, 'experimentId') = 'String'
          THEN JSONExtractString(r.properties, 'experimentId')
          WHEN JSONType(r.properties, 'experimentId') IN ('Null', 'Object', 'Array')
          THEN NULL
          ELSE nullIf(JSONExtractRaw(r.properties, 'experimentId'), '')
        END
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
      WHEN NOT (
        r.event IN (
          '$create_alias',
          '$feature_flag_called',
          '$groupidentify',
          '$identify',
          '$pageleave',
          '$set',
          'invoice_paid'
        )
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
      r.timestamp >= toDateTime64('2024-02-18 23:00:00', 6, 'UTC')
      AND r.timestamp < toDateTime64('2024-03-24 23:00:00', 6, 'UTC')
    )
    AND (
      NOT (
        r.event IN (
          '$create_alias',
          '$feature_flag_called',
          '$groupidentify',
          '$identify',
          '$pageleave',
          '$set',
          'invoice_paid'
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
        WHEN m.ts >= addSeconds(x.first_ts, 1209600)
        AND m.ts < addSeconds(x.first_ts, 1814400)
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
    toDate(first_ts, 'Europe/Paris') AS day
  FROM per_person
) AS p
GROUP BY
  variant,
  day
ORDER BY
  variant NULLS FIRST,
  day NULLS FIRST;
