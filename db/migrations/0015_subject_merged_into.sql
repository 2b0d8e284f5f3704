-- Who was merged into a subject: subjects-store.mergedFamilies walks subject.merged_into downwards (WITH RECURSIVE)
-- for every person view, access answer and erasure. Without an index each step read the whole subject table
-- (bench/requests-bench.ts: at 1,000,000 people most of the 142 ms an access answer took, and 0.5 s cold); with it,
-- a few index pages (0.3 ms).
-- Partial: almost nobody is merged, and `merged_into = x` implies the predicate, so the planner uses it.
CREATE INDEX subject_merged_into ON subject (merged_into) WHERE merged_into IS NOT NULL;
