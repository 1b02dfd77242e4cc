-- case: adoption totals_only: {'from': '2024-03-01', 'to': '2024-04-06', 'timezone': 'Europe/Paris', 'over_time': False}
-- statement adoption
/* analysis adoption, adoption: 2024-03-01..2024-04-06 in Europe/Paris, all tenants */
WITH adoption_used /* adoption: each active person's features (NULL: active without one), persons resolved through merges */ AS (
  SELECT
    who,
    feature
  FROM (
    SELECT
      r.timestamp AS ts,
      COALESCE(o.person_id, r.person_id) AS who,
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
    who,
    feature
), adoption_users /* adoption: distinct users of each feature in the range */ AS (
  SELECT
    feature,
    COUNT(DISTINCT who) AS persons
  FROM adoption_used
  WHERE
    NOT feature IS NULL
  GROUP BY
    feature
), adoption_ranked /* adoption: features ranked by distinct users, ties by name */ AS (
  SELECT
    feature,
    persons,
    ROW_NUMBER() OVER (ORDER BY persons DESC, feature) AS rank
  FROM adoption_users
)
SELECT
  *
FROM (
  SELECT
    'active' AS part,
    CAST(NULL AS DATE) AS bucket,
    CAST(NULL AS TEXT) AS feature,
    COUNT(DISTINCT who) AS persons
  FROM adoption_used
  UNION ALL
  SELECT
    'feature' AS part,
    CAST(NULL AS DATE) AS bucket,
    feature AS feature,
    persons AS persons
  FROM adoption_ranked
  WHERE
    rank <= 10
) AS counts;
