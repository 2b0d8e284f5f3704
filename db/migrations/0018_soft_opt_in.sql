-- The soft opt-in (PECR reg. 22(3)), recorded: a 'soft-opt-in' event is written when a collection point the register
-- names as a sale or negotiations for one (purposes.*.soft-opt-in) is submitted with the person's contact and its
-- refusal box left unticked, its sale in `context` (`sale:<point>; <what is sold>`). Email and SMS marketing on a
-- soft opt-in channel needs such an event and no objection, refusal or withdrawal (consent/marketing.ts).
ALTER TABLE consent_event DROP CONSTRAINT consent_event_state_check;
ALTER TABLE consent_event ADD CONSTRAINT consent_event_state_check
  CHECK (state IN ('given', 'withdrawn', 'refused', 'expired', 'objected', 'pending', 'soft-opt-in'));
