ALTER TABLE devices DROP COLUMN allow_professional_workflows;
ALTER TABLE devices DROP COLUMN allow_basic_writes;
