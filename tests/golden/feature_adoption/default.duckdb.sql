-- case: feature_adoption default: 2024-03-01..2024-03-31, day, Europe/Paris
/* metric feature_adoption (adoption): Feature adoption; 2024-03-01..2024-03-31 in Europe/Paris, grain day, all tenants */
WITH feature_adoption_rows /* feature_adoption: active events in the range */ AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    CAST('1970-01-01' AS DATE) + CAST((
      EPOCH_US(r.timestamp) + CASE
        WHEN EPOCH_US(r.timestamp) < 1711846800000000
        THEN 3600000000
        ELSE 7200000000
      END
    ) // 86400000000 AS INT) AS bucket,
    r.event AS event
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMPTZ)
      AND r.timestamp < CAST('2024-03-31 22:00:00+00' AS TIMESTAMPTZ)
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
), feature_adoption_active /* feature_adoption: distinct active persons */ AS (
  SELECT
    bucket,
    COUNT(DISTINCT who) AS active
  FROM feature_adoption_rows
  GROUP BY
    bucket
), feature_adoption_users /* feature_adoption: distinct users per feature */ AS (
  SELECT
    bucket,
    event AS feature,
    COUNT(DISTINCT who) AS users
  FROM feature_adoption_rows
  WHERE
    event IN (
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
  GROUP BY
    bucket,
    event
), feature_adoption_features /* feature_adoption: the features measured */ AS (
  SELECT
    'ai_assist_used' AS feature
  UNION ALL
  SELECT
    'api_token_created' AS feature
  UNION ALL
  SELECT
    'automation_created' AS feature
  UNION ALL
  SELECT
    'block_added' AS feature
  UNION ALL
  SELECT
    'board_view_opened' AS feature
  UNION ALL
  SELECT
    'calendar_view_opened' AS feature
  UNION ALL
  SELECT
    'dark_mode_enabled' AS feature
  UNION ALL
  SELECT
    'database_created' AS feature
  UNION ALL
  SELECT
    'emoji_reacted' AS feature
  UNION ALL
  SELECT
    'export_markdown' AS feature
  UNION ALL
  SELECT
    'export_pdf' AS feature
  UNION ALL
  SELECT
    'file_uploaded' AS feature
  UNION ALL
  SELECT
    'formula_added' AS feature
  UNION ALL
  SELECT
    'guest_added' AS feature
  UNION ALL
  SELECT
    'import_completed' AS feature
  UNION ALL
  SELECT
    'integration_connected' AS feature
  UNION ALL
  SELECT
    'mention_added' AS feature
  UNION ALL
  SELECT
    'mobile_app_opened' AS feature
  UNION ALL
  SELECT
    'page_archived' AS feature
  UNION ALL
  SELECT
    'page_duplicated' AS feature
  UNION ALL
  SELECT
    'page_edited' AS feature
  UNION ALL
  SELECT
    'page_history_viewed' AS feature
  UNION ALL
  SELECT
    'page_locked' AS feature
  UNION ALL
  SELECT
    'page_moved' AS feature
  UNION ALL
  SELECT
    'reminder_set' AS feature
  UNION ALL
  SELECT
    'search_performed' AS feature
  UNION ALL
  SELECT
    'sidebar_customized' AS feature
  UNION ALL
  SELECT
    'synced_block_created' AS feature
  UNION ALL
  SELECT
    'table_filtered' AS feature
  UNION ALL
  SELECT
    'template_used' AS feature
  UNION ALL
  SELECT
    'web_clipper_used' AS feature
  UNION ALL
  SELECT
    'workspace_analytics_viewed' AS feature
)
SELECT
  a.bucket AS bucket,
  f.feature AS feature,
  CAST(COALESCE(u.users, 0) AS DOUBLE) / a.active AS value
FROM feature_adoption_active AS a
CROSS JOIN feature_adoption_features AS f
LEFT JOIN feature_adoption_users AS u
  ON u.feature = f.feature AND u.bucket = a.bucket
