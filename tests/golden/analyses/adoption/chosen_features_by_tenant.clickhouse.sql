-- case: adoption chosen_features_by_tenant: {'from': '2024-03-01', 'to': '2024-04-06', 'timezone': 'Europe/Paris', 'features': ['search_performed', 'block_added', 'page_edited'], 'breakdown': 'tenant'}
-- statement adoption
/* analysis adoption, adoption: 2024-03-01..2024-04-06 in Europe/Paris, all tenants */
WITH adoption_used /* adoption: each active person's features (NULL: active without one), persons resolved through merges */ AS (
  SELECT
    tenant,
    bucket,
    who,
    feature
  FROM (
    SELECT
      r.timestamp AS ts,
      COALESCE(o.person_id, r.person_id) AS who,
      r.tenant_id AS tenant,
      toDate(r.timestamp, 'Europe/Paris') AS bucket,
      CASE
        WHEN r.event IN ('search_performed', 'block_added', 'page_edited')
        THEN r.event
      END AS feature
    FROM events AS r
    LEFT JOIN person_overrides AS o
      ON o.old_person_id = r.person_id
    WHERE
      (
        r.timestamp >= toDateTime64('2024-02-29 23:00:00', 6, 'UTC')
        AND r.timestamp < toDateTime64('2024-04-06 22:00:00', 6, 'UTC')
      )
      AND NOT (
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
  ) AS r
  GROUP BY
    tenant,
    bucket,
    who,
    feature
), adoption_users /* adoption: distinct users of each feature in the range */ AS (
  SELECT
    tenant,
    feature,
    COUNT(DISTINCT who) AS persons
  FROM adoption_used
  WHERE
    NOT (
      feature IS NULL
    )
  GROUP BY
    tenant,
    feature
), adoption_ranked /* adoption: features ranked by distinct users, ties by name */ AS (
  SELECT
    tenant,
    feature,
    persons,
    ROW_NUMBER() OVER (PARTITION BY tenant ORDER BY persons DESC, feature) AS rank
  FROM adoption_users
), adoption_top /* adoption: the top 10 features */ AS (
  SELECT
    tenant,
    feature
  FROM adoption_ranked
  WHERE
    rank <= 10
)
SELECT
  *
FROM (
  SELECT
    'active' AS part,
    tenant,
    CAST(NULL AS Nullable(DATE)) AS bucket,
    CAST(NULL AS Nullable(String)) AS feature,
    COUNT(DISTINCT who) AS persons
  FROM adoption_used
  GROUP BY
    tenant
  UNION ALL
  SELECT
    'feature' AS part,
    tenant,
    CAST(NULL AS Nullable(DATE)) AS bucket,
    feature AS feature,
    persons AS persons
  FROM adoption_ranked
  WHERE
    rank <= 10
  UNION ALL
  SELECT
    'active' AS part,
    tenant,
    bucket AS bucket,
    CAST(NULL AS Nullable(String)) AS feature,
    COUNT(DISTINCT who) AS persons
  FROM adoption_used
  GROUP BY
    tenant,
    bucket
  UNION ALL
  SELECT
    'feature' AS part,
    tenant,
    bucket,
    feature,
    persons
  FROM (
    SELECT
      u.tenant AS tenant,
      u.bucket AS bucket,
      u.feature AS feature,
      COUNT(*) AS persons
    FROM adoption_used AS u
    INNER JOIN adoption_top AS t
      ON u.feature = t.feature AND u.tenant IS NOT DISTINCT FROM t.tenant
    GROUP BY
      u.tenant,
      u.bucket,
      u.feature
  ) AS pb
) AS counts;
