ALTER TABLE things ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
INSERT INTO things (id, name) VALUES (1, 'seed');
