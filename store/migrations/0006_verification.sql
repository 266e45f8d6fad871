-- 0006_verification: placeholder, filled in by its issue's work.
SELECT 1;
