-- Word search always asks one library. With one GIN index over all of them, PostgreSQL
-- intersected its matches with a bitmap of the library's every row (200,000 rows and 7 ms
-- for each achievements search at 100k experts, bench/match_latency.py); an index per
-- library holds only that library's documents and needs no second bitmap.
CREATE INDEX search_documents_lexemes_problems_idx ON search_documents USING gin (lexemes)
    WHERE library = 'problems';
CREATE INDEX search_documents_lexemes_achievements_idx ON search_documents USING gin (lexemes)
    WHERE library = 'achievements';
CREATE INDEX search_documents_lexemes_experts_idx ON search_documents USING gin (lexemes)
    WHERE library = 'experts';
DROP INDEX search_documents_lexemes_idx;
