-- Orders get a status; existing rows start as 'new'.
ALTER TABLE orders ADD COLUMN status TEXT NOT NULL DEFAULT 'new';
CREATE INDEX orders_by_status ON orders (status);
