-- 0009_alerts: placeholder, filled in by its issue's work.
SELECT 1;
