-- Sign-in throttling moves from the account to the account on one network: a wrong password counts against
-- 'account:<sha-256 of the email>:<network>' (and 'network:<network>') in sign_in_attempt, so nobody elsewhere can
-- lock a chosen account out. The account-wide counter and lock go.
ALTER TABLE staff_user DROP COLUMN failed_attempts, DROP COLUMN locked_until;
DELETE FROM sign_in_attempt;
