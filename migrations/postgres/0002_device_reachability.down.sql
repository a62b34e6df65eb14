ALTER TABLE devices DROP COLUMN last_seen_at;
ALTER TABLE devices DROP COLUMN insecure_http;
ALTER TABLE devices DROP COLUMN http_port;
