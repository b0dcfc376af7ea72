-- SQLite: entries and transactions are never changed. (Deletes are left to the test runner's
-- table flush; on PostgreSQL, where flushing truncates, triggers refuse deletes too.)
CREATE TRIGGER IF NOT EXISTS ledger_entry_immutable BEFORE UPDATE ON ledger_entry
BEGIN SELECT RAISE(ABORT, 'hubtab:immutable:Ledger entries are never changed; post a reversal instead.'); END;
CREATE TRIGGER IF NOT EXISTS ledger_transaction_immutable BEFORE UPDATE ON ledger_transaction
BEGIN SELECT RAISE(ABORT, 'hubtab:immutable:Ledger transactions are never changed; post a reversal instead.'); END;
