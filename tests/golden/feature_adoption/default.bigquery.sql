-- case: feature_adoption default: 2024-03-01..2024-03-31, day, Europe/Paris
/* metric feature_adoption (adoption): Feature adoption; 2024-03-01..2024-03-31 in Europe/Paris, grain day, all tenants */
WITH feature_adoption_rows /* feature_adoption: active events in the range */ AS (
  SELECT
    r.timestamp AS ts,
    COALESCE(o.person_id, r.person_id) AS who,
    DATE(r.timestamp, 'Europe/Paris') AS bucket,
    r.event AS event
  FROM events AS r
  LEFT JOIN person_overrides AS o
    ON o.old_person_id = r.person_id
  WHERE
    (
      r.timestamp >= CAST('2024-02-29 23:00:00+00' AS TIMESTAMP)
      AND r.timestamp < CAST('2024-03-31 22:00:00+00' AS TIMESTAMP)
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
)
SELECT
  u.bucket AS bucket,
  u.feature AS feature,
  CAST(u.users AS FLOAT64) / a.active AS value
FROM feature_adoption_users AS u
JOIN feature_adoption_active AS a
  ON u.bucket = a.bucket
