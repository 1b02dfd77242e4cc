-- case: paths fall_back: {'from': '2024-10-26', 'to': '2024-10-28', 'timezone': 'Europe/Paris', 'event': '$pageview'}
-- statement links
/* analysis paths, links: 2024-10-26..2024-10-28 in Europe/Paris, all tenants */
WITH paths_events /* paths: events in the range with the same person's previous one, persons resolved through merges */ AS (
  SELECT
    who,
    ts,
    eid,
    event,
    lag(toNullable(ts)) OVER (PARTITION BY who ORDER BY ts, eid) AS prev_ts
  FROM (
    SELECT
      r.timestamp AS ts,
      COALESCE(o.person_id, r.person_id) AS who,
      r.id AS eid,
      r.event AS event
    FROM events AS r
    LEFT JOIN person_overrides AS o
      ON o.old_person_id = r.person_id
    WHERE
      r.timestamp >= toDateTime64('2024-10-25 22:00:00', 6, 'UTC')
      AND r.timestamp < toDateTime64('2024-10-28 23:00:00', 6, 'UTC')
  ) AS r
), paths_visits /* paths: visits, cut where more than 30 minutes pass between two events */ AS (
  SELECT
    who,
    ts,
    eid,
    event,
    SUM(CASE WHEN prev_ts IS NULL OR ts > addSeconds(prev_ts, 1800) THEN 1 ELSE 0 END) OVER (PARTITION BY who ORDER BY ts, eid ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS visit
  FROM paths_events
), paths_repeats /* paths: each event with the one before it in the visit */ AS (
  SELECT
    who,
    ts,
    eid,
    event,
    visit,
    lag(toNullable(event)) OVER (PARTITION BY who, visit ORDER BY ts, eid) AS prev_event
  FROM paths_visits
), paths_collapsed /* paths: repeats of the event just before dropped */ AS (
  SELECT
    who,
    ts,
    eid,
    event,
    visit
  FROM paths_repeats
  WHERE
    prev_event IS NULL OR prev_event <> event
), paths_steps /* paths: each person's events numbered in order */ AS (
  SELECT
    who,
    visit,
    event,
    ROW_NUMBER() OVER (PARTITION BY who ORDER BY ts, eid) AS k
  FROM paths_collapsed
), paths_anchored /* paths: each person's first $pageview (its number and visit) */ AS (
  SELECT
    who,
    visit,
    event,
    k,
    MIN(CASE WHEN event = '$pageview' THEN k END) OVER (PARTITION BY who) AS k0,
    MIN(CASE WHEN event = '$pageview' THEN visit END) OVER (PARTITION BY who) AS v0
  FROM paths_steps
), paths_levels /* paths: the 3 events after it in the same visit, by level */ AS (
  SELECT
    who,
    k - k0 AS level,
    event
  FROM paths_anchored
  WHERE
    visit = v0 AND k - k0 BETWEEN 0 AND 3
)
SELECT
  level,
  source,
  target,
  COUNT(*) AS persons
FROM (
  SELECT
    level,
    lag(toNullable(event)) OVER (PARTITION BY who ORDER BY level) AS source,
    event AS target
  FROM paths_levels
) AS l
GROUP BY
  level,
  source,
  target;
