-- 0008_concentration: placeholder, filled in by its issue's work.
SELECT 1;
