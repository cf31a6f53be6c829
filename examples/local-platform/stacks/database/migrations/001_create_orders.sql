-- The first table of the demo service.
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  item TEXT NOT NULL,
  created_at TEXT NOT NULL
);
