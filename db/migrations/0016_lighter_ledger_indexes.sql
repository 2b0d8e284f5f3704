-- Fewer index entries per consent choice and audit event (bench/consent-bench.ts: each choice writes three ledger
-- rows and an audit event, and every index entry is work done before the 201).
-- A ledger row belongs to a person or to a visitor, never both: each goes into one of the two look-up indexes, not
-- both. `subject_id = x` and `visitor_id = x` imply the predicates, so the planner still uses them.
DROP INDEX consent_event_subject;
CREATE INDEX consent_event_subject ON consent_event (subject_id, purpose, at) WHERE subject_id IS NOT NULL;
DROP INDEX consent_event_visitor;
CREATE INDEX consent_event_visitor ON consent_event (visitor_id, purpose, at) WHERE visitor_id IS NOT NULL;
-- The ledger is appended in time order, so a block-range index answers the console's by-date counts (a range scan)
-- at a fraction of a B-tree's upkeep.
DROP INDEX consent_event_at;
CREATE INDEX consent_event_at ON consent_event USING brin (at);
-- Most audit events of the public side (banner choices, sign-ins) name no subject.
DROP INDEX audit_event_subject;
CREATE INDEX audit_event_subject ON audit_event (subject_id) WHERE subject_id IS NOT NULL;
