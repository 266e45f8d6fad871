-- 0007_settlement_checks: placeholder, filled in by its issue's work.
SELECT 1;
