-- Trigram matching for search that forgives typos (issue 18): "merrino" finds "Merino". Neon and
-- Debian's PostgreSQL ship the extension; the embedded database loads PGlite's build of it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
