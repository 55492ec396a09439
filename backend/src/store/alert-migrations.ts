import type { Migration } from './migrations';

/**
 * Alert channels (issue 12): webhook receivers, their Alertmanager-style groups (what was last sent, when the group
 * flushes next), and every notification with each delivery attempt. A pending notification survives a restart.
 */
export const alertMigrations: readonly Migration[] = [
  {
    name: 'alerts/001-webhooks',
    sql: `
CREATE TABLE alert_receivers (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  url TEXT NOT NULL,
  secret TEXT,
  secret_env TEXT,
  group_wait_ms INTEGER NOT NULL,
  group_interval_ms INTEGER NOT NULL,
  repeat_interval_ms INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE alert_groups (
  receiver_id INTEGER NOT NULL REFERENCES alert_receivers(id) ON DELETE CASCADE,
  group_key TEXT NOT NULL,
  group_labels TEXT NOT NULL,
  alerts TEXT NOT NULL,
  next_flush_at INTEGER NOT NULL,
  last_sent_at INTEGER,
  last_sent_digest TEXT,
  PRIMARY KEY (receiver_id, group_key)
);
CREATE TABLE alert_notifications (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  receiver_id INTEGER NOT NULL REFERENCES alert_receivers(id) ON DELETE CASCADE,
  group_key TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  alert_status TEXT NOT NULL,
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  finished_at INTEGER,
  last_http_status INTEGER,
  last_error TEXT
);
CREATE INDEX alert_notifications_pending ON alert_notifications (status, next_attempt_at);
CREATE TABLE alert_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  notification_id INTEGER NOT NULL REFERENCES alert_notifications(id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  http_status INTEGER,
  error TEXT,
  duration_ms REAL NOT NULL
);
CREATE INDEX alert_attempts_by_notification ON alert_attempts (notification_id, id);
`,
  },
];
