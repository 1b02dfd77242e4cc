-- case: adoption weekly_sunday_by_plan_country: {'from': '2024-03-01', 'to': '2024-04-06', 'timezone': 'Europe/Paris', 'grain': 'week', 'week_start': 'sunday', 'breakdown': ['plan', 'country']}
-- statement adoption
/* analysis adoption, adoption: 2024-03-01..2024-04-06 in Europe/Paris, all tenants */
WITH adoption_used /* adoption: each active person's features (NULL: active without one), persons resolved through merges */ AS (
  SELECT
    plan,
    country,
    bucket,
    who,
    feature
  FROM (
    SELECT
      r.timestamp AS ts,
      COALESCE(o.person_id, r.person_id) AS who,
      r.plan AS plan,
      r.country AS country,
      CAST('1970-01-01' AS DATE) + CAST((
        EPOCH_US(r.timestamp) + CASE
          WHEN EPOCH_US(r.timestamp) < 1711846800000000
          THEN 3600000000
          ELSE 7200000000
        END
      ) // 86400000000 AS INT) + CAST(-(
        (
          CAST('1970-01-01' AS DATE) + CAST((
            EPOCH_US(r.timestamp) + CASE
              WHEN EPOCH_US(r.timestamp) < 1711846800000000
              THEN 3600000000
              ELSE 7200000000
            END
          ) // 86400000000 AS INT) - CAST('1970-01-01' AS DATE) + 4
        ) % 7
      ) AS INT) AS bucket,
      CASE
        WHEN r.event IN (
          'ai_assist_used',
          'api_token_created',
          'automation_created',
          'block_added',
          'board_view_opened',
          'calendar_view_opened',
          'dark_mode_enabled',
          'database_created',
          'emoji_reacted',
          'export_markdown',
          'export_pdf',
          'file_uploaded',
          'formula_added',
          'guest_added',
          'import_completed',
          'integration_connected',
          'mention_added',
          'mobile_app_opened',
          'page_archived',
          'page_duplicated',
          'page_edited',
          'page_history_viewed',
          'page_locked',
          'page_moved',
          'reminder_set',
          'search_performed',
          'sidebar_customized',
          'synced_block_created',
          'table_filtered',
          'template_used',
          'web_clipper_used',
          'workspace_analytics_viewed'
        )
        THEN r.event
      END AS feature
    FROM events AS r
    LEFT JOIN person_overrides AS o
      ON o.old_person_id = r.person_id
    WHERE
      (
        r.timestamp >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMPTZ)
        AND r.timestamp < CAST('2024-04-06 22:00:00+00' AS TIMESTAMPTZ)
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
  ) AS r
  GROUP BY
    plan,
    country,
    bucket,
    who,
    feature
), adoption_users /* adoption: distinct users of each feature in the range */ AS (
  SELECT
    plan,
    country,
    feature,
    COUNT(DISTINCT who) AS persons
  FROM adoption_used
  WHERE
    NOT feature IS NULL
  GROUP BY
    plan,
    country,
    feature
), adoption_ranked /* adoption: features ranked by distinct users, ties by name */ AS (
  SELECT
    plan,
    country,
    feature,
    persons,
    ROW_NUMBER() OVER (PARTITION BY plan, country ORDER BY persons DESC, feature) AS rank
  FROM adoption_users
), adoption_top /* adoption: the top 10 features */ AS (
  SELECT
    plan,
    country,
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
    plan,
    country,
    CAST(NULL AS DATE) AS bucket,
    CAST(NULL AS TEXT) AS feature,
    COUNT(DISTINCT who) AS persons
  FROM adoption_used
  GROUP BY
    plan,
    country
  UNION ALL
  SELECT
    'feature' AS part,
    plan,
    country,
    CAST(NULL AS DATE) AS bucket,
    feature AS feature,
    persons AS persons
  FROM adoption_ranked
  WHERE
    rank <= 10
  UNION ALL
  SELECT
    'active' AS part,
    plan,
    country,
    bucket AS bucket,
    CAST(NULL AS TEXT) AS feature,
    COUNT(DISTINCT who) AS persons
  FROM adoption_used
  GROUP BY
    plan,
    country,
    bucket
  UNION ALL
  SELECT
    'feature' AS part,
    plan,
    country,
    bucket,
    feature,
    persons
  FROM (
    SELECT
      u.plan AS plan,
      u.country AS country,
      u.bucket AS bucket,
      u.feature AS feature,
      COUNT(*) AS persons
    FROM adoption_used AS u
    INNER JOIN adoption_top AS t
      ON u.feature = t.feature
      AND u.plan IS NOT DISTINCT FROM t.plan
      AND u.country IS NOT DISTINCT FROM t.country
    GROUP BY
      u.plan,
      u.country,
      u.bucket,
      u.feature
  ) AS pb
) AS counts;
