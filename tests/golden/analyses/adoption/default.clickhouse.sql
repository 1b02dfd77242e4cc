-- case: adoption default: {'from': '2024-03-01', 'to': '2024-04-06', 'timezone': 'Europe/Paris'}
-- statement adoption
/* analysis adoption, adoption: 2024-03-01..2024-04-06 in Europe/Paris, all tenants */
WITH adoption_used /* adoption: each active person's features (NULL: active without one), persons resolved through merges */ AS (
  SELECT
    bucket,
    who,
    feature
  FROM (
    SELECT
      r.timestamp AS ts,
      COALESCE(o.person_id, r.person_id) AS who,
      toDate(r.timestamp, 'Europe/Paris') AS bucket,
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
    bucket,
    who,
    feature
), adoption_users /* adoption: distinct users of each feature in the range */ AS (
  SELECT
    feature,
    COUNT(DISTINCT who) AS persons
  FROM adoption_used
  WHERE
    NOT (
      feature IS NULL
    )
  GROUP BY
    feature
), adoption_ranked /* adoption: features ranked by distinct users, ties by name */ AS (
  SELECT
    feature,
    persons,
    ROW_NUMBER() OVER (ORDER BY persons DESC, feature) AS rank
  FROM adoption_users
), adoption_top /* adoption: the top 10 features */ AS (
  SELECT
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
    CAST(NULL AS Nullable(DATE)) AS bucket,
    CAST(NULL AS Nullable(String)) AS feature,
    COUNT(DISTINCT who) AS persons
  FROM adoption_used
  UNION ALL
  SELECT
    'feature' AS part,
    CAST(NULL AS Nullable(DATE)) AS bucket,
    feature AS feature,
    persons AS persons
  FROM adoption_ranked
  WHERE
    rank <= 10
  UNION ALL
  SELECT
    'active' AS part,
    bucket AS bucket,
    CAST(NULL AS Nullable(String)) AS feature,
    COUNT(DISTINCT who) AS persons
  FROM adoption_used
  GROUP BY
    bucket
  UNION ALL
  SELECT
    'feature' AS part,
    bucket,
    feature,
    persons
  FROM (
    SELECT
      u.bucket AS bucket,
      u.feature AS feature,
      COUNT(*) AS persons
    FROM adoption_used AS u
    INNER JOIN adoption_top AS t
      ON u.feature = t.feature
    GROUP BY
      u.bucket,
      u.feature
  ) AS pb
) AS counts;
