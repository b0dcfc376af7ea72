-- Hubtab ledger: the PostgreSQL hot path. One call per posting; the same rules as engine_py.py.
-- Errors are raised as 'hubtab:<code>:<message>' and mapped to DomainError in pg.py.
-- Lock order, everywhere: hold row, then bounded balances (shard 0) by account id, then one shard of
-- each unbounded account by account id, taken with SKIP LOCKED so a busy hub account never queues.

CREATE OR REPLACE FUNCTION hubtab_post(
    p_hub bigint, p_key text, p_hash text, p_kind text, p_memo text, p_actor bigint, p_reason text,
    p_reverses bigint, p_accounts bigint[], p_amounts bigint[], p_units text[], p_lot_kinds text[],
    p_lot_expires timestamptz[], p_draw_lots bigint[], p_release_account bigint, p_release_minor bigint,
    OUT transaction_id bigint, OUT replayed boolean)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_existing_hash text;
    v_n int := array_length(p_accounts, 1);
    v_found int;
    v_bad text;
    v_bounded bigint[];
    v_unbounded bigint[];
    v_debited bigint[];
    v_shard_of_acc bigint[] := '{}';
    v_shard_val int[] := '{}';
    v_acc bigint;
    v_shards int;
    v_shard int;
    v_lot_bearing boolean;
    v_now timestamptz;
    v_i int;
    v_m bigint;
    v_bal bigint;
    v_ver bigint;
    v_take bigint;
    v_need bigint;
    v_lot_id bigint;
    v_lot record;
    e_acc bigint[] := '{}';
    e_shard int[] := '{}';
    e_amt bigint[] := '{}';
    e_bal bigint[] := '{}';
    e_ver bigint[] := '{}';
    e_lot bigint[] := '{}';
BEGIN
    INSERT INTO ledger_transaction (hub_id, key, request_hash, kind, memo, actor_id, reason, reverses_id, posted_at)
    VALUES (p_hub, p_key, p_hash, p_kind, p_memo, p_actor, p_reason, p_reverses, clock_timestamp())
    ON CONFLICT DO NOTHING
    RETURNING id INTO transaction_id;
    IF transaction_id IS NULL THEN
        SELECT t.id, t.request_hash INTO transaction_id, v_existing_hash
          FROM ledger_transaction t WHERE t.hub_id = p_hub AND t.key = p_key;
        IF transaction_id IS NULL THEN
            RAISE EXCEPTION 'hubtab:already_reversed:That transaction has already been reversed.';
        END IF;
        IF v_existing_hash <> p_hash THEN
            RAISE EXCEPTION 'hubtab:idempotency_conflict:The key % was already used for a different request.', p_key;
        END IF;
        replayed := true;
        RETURN;
    END IF;
    replayed := false;

    -- Validate every account once: same hub, open, and in the unit the leg says.
    SELECT count(a.id),
           min(CASE WHEN a.status <> 'open' THEN 'account_closed'
                    WHEN l.u <> a.unit THEN 'unit_mismatch' END),
           array_agg(DISTINCT a.id) FILTER (WHERE a.shard_count = 1),
           array_agg(DISTINCT a.id) FILTER (WHERE a.shard_count > 1)
      INTO v_found, v_bad, v_bounded, v_unbounded
      FROM unnest(p_accounts, p_units) AS l(a, u)
      LEFT JOIN ledger_account a ON a.id = l.a AND a.hub_id = p_hub;
    IF v_found <> v_n THEN
        RAISE EXCEPTION 'hubtab:account_not_found:An account in this transaction does not exist at this hub.';
    END IF;
    IF v_bad = 'account_closed' THEN
        RAISE EXCEPTION 'hubtab:account_closed:An account in this transaction is closed.';
    ELSIF v_bad = 'unit_mismatch' THEN
        RAISE EXCEPTION 'hubtab:unit_mismatch:A leg''s unit differs from its account''s unit.';
    END IF;

    -- Bounded accounts: wait for their single balance row, in account id order (no deadlocks).
    IF v_bounded IS NOT NULL THEN
        PERFORM 1 FROM ledger_balance b
          WHERE b.account_id = ANY(v_bounded) AND b.shard = 0
          ORDER BY b.account_id FOR UPDATE;
    END IF;
    -- Unbounded accounts: take any free shard; wait only if every shard is busy.
    IF v_unbounded IS NOT NULL THEN
        FOREACH v_acc IN ARRAY v_unbounded LOOP
            -- Each connection starts its search at its own shard, so workers rarely meet.
            SELECT a.shard_count INTO v_shards FROM ledger_account a WHERE a.id = v_acc;
            SELECT b.shard INTO v_shard FROM ledger_balance b
              WHERE b.account_id = v_acc
              ORDER BY (b.shard - pg_backend_pid() % v_shards + v_shards) % v_shards
              FOR UPDATE SKIP LOCKED LIMIT 1;
            IF NOT FOUND THEN
                v_shard := pg_backend_pid() % v_shards;
                PERFORM 1 FROM ledger_balance b WHERE b.account_id = v_acc AND b.shard = v_shard FOR UPDATE;
            END IF;
            v_shard_of_acc := v_shard_of_acc || v_acc;
            v_shard_val := v_shard_val || v_shard;
        END LOOP;
    END IF;
    v_now := clock_timestamp();

    FOR v_i IN 1..v_n LOOP
        v_acc := p_accounts[v_i];
        v_m := p_amounts[v_i];
        v_shard := coalesce(v_shard_val[array_position(v_shard_of_acc, v_acc)], 0);
        SELECT a.kind IN ('customer', 'organisation') INTO v_lot_bearing FROM ledger_account a WHERE a.id = v_acc;
        SELECT b.balance_minor, b.version INTO v_bal, v_ver FROM ledger_balance b
          WHERE b.account_id = v_acc AND b.shard = v_shard;
        IF NOT v_lot_bearing THEN
            v_bal := v_bal + v_m; v_ver := v_ver + 1;
            e_acc := e_acc || v_acc; e_shard := e_shard || v_shard; e_amt := e_amt || v_m;
            e_bal := e_bal || v_bal; e_ver := e_ver || v_ver; e_lot := e_lot || NULL::bigint;
        ELSIF v_m > 0 THEN
            -- Credit repays debt first; the rest becomes a new lot.
            IF v_bal < 0 THEN
                v_take := least(v_m, -v_bal);
                v_bal := v_bal + v_take; v_ver := v_ver + 1; v_m := v_m - v_take;
                e_acc := e_acc || v_acc; e_shard := e_shard || 0; e_amt := e_amt || v_take;
                e_bal := e_bal || v_bal; e_ver := e_ver || v_ver; e_lot := e_lot || NULL::bigint;
            END IF;
            IF v_m > 0 THEN
                INSERT INTO ledger_lot (hub_id, account_id, kind, amount_minor, remaining_minor, expires_at, transaction_id, created_at)
                VALUES (p_hub, v_acc, coalesce(p_lot_kinds[v_i], 'paid'), v_m, v_m, p_lot_expires[v_i], transaction_id, v_now)
                RETURNING id INTO v_lot_id;
                v_bal := v_bal + v_m; v_ver := v_ver + 1;
                e_acc := e_acc || v_acc; e_shard := e_shard || 0; e_amt := e_amt || v_m;
                e_bal := e_bal || v_bal; e_ver := e_ver || v_ver; e_lot := e_lot || v_lot_id;
            END IF;
        ELSE
            -- Debit: the named lot first, then granted lots soonest-expiring first, then paid lots
            -- oldest first; what no lot covers is debt (checked against the floor below).
            v_need := -v_m;
            FOR v_lot IN
                SELECT l.id, l.remaining_minor FROM ledger_lot l
                 WHERE l.account_id = v_acc AND l.remaining_minor > 0
                 ORDER BY (l.id IS DISTINCT FROM p_draw_lots[v_i]), (l.kind = 'paid'), l.expires_at NULLS LAST, l.id
            LOOP
                EXIT WHEN v_need = 0;
                v_take := least(v_need, v_lot.remaining_minor);
                UPDATE ledger_lot SET remaining_minor = remaining_minor - v_take WHERE id = v_lot.id;
                v_need := v_need - v_take; v_bal := v_bal - v_take; v_ver := v_ver + 1;
                e_acc := e_acc || v_acc; e_shard := e_shard || 0; e_amt := e_amt || -v_take;
                e_bal := e_bal || v_bal; e_ver := e_ver || v_ver; e_lot := e_lot || v_lot.id;
            END LOOP;
            IF v_need > 0 THEN
                v_bal := v_bal - v_need; v_ver := v_ver + 1;
                e_acc := e_acc || v_acc; e_shard := e_shard || 0; e_amt := e_amt || -v_need;
                e_bal := e_bal || v_bal; e_ver := e_ver || v_ver; e_lot := e_lot || NULL::bigint;
            END IF;
        END IF;
        UPDATE ledger_balance SET balance_minor = v_bal, version = v_ver
         WHERE account_id = v_acc AND shard = v_shard;
    END LOOP;

    INSERT INTO ledger_entry (hub_id, transaction_id, account_id, shard, unit, amount_minor,
                              balance_after_minor, version, lot_id, posted_at)
    SELECT p_hub, transaction_id, e.acc, e.shard, a.unit, e.amt, e.bal, e.ver, e.lot, v_now
      FROM unnest(e_acc, e_shard, e_amt, e_bal, e_ver, e_lot) AS e(acc, shard, amt, bal, ver, lot)
      JOIN ledger_account a ON a.id = e.acc;

    IF p_release_account IS NOT NULL THEN
        UPDATE ledger_balance SET held_minor = held_minor - p_release_minor
         WHERE account_id = p_release_account AND shard = 0;
    END IF;

    -- Floors: an account this transaction took value from must stay at or above its floor,
    -- counting what is held on it.
    SELECT array_agg(s.a) INTO v_debited
      FROM (SELECT l.a, sum(l.m) AS net FROM unnest(p_accounts, p_amounts) AS l(a, m) GROUP BY l.a) s
     WHERE s.net < 0;
    IF v_debited IS NOT NULL AND EXISTS (
        SELECT 1 FROM ledger_account a JOIN ledger_balance b ON b.account_id = a.id AND b.shard = 0
         WHERE a.id = ANY(v_debited) AND a.floor_minor IS NOT NULL
           AND b.balance_minor - b.held_minor < a.floor_minor) THEN
        RAISE EXCEPTION 'hubtab:insufficient_funds:Not enough spendable credit for this transaction.';
    END IF;
END
$fn$;


CREATE OR REPLACE FUNCTION hubtab_hold_place(
    p_hub bigint, p_key text, p_hash text, p_account bigint, p_amount bigint, p_expires timestamptz,
    p_reference text, OUT hold_id bigint, OUT replayed boolean)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_existing_hash text;
    v_acc record;
    v_bal record;
BEGIN
    INSERT INTO ledger_hold (hub_id, account_id, key, request_hash, amount_minor, reference, status, expires_at, created_at)
    VALUES (p_hub, p_account, p_key, p_hash, p_amount, p_reference, 'held', p_expires, clock_timestamp())
    ON CONFLICT (hub_id, key) DO NOTHING
    RETURNING id INTO hold_id;
    IF hold_id IS NULL THEN
        SELECT h.id, h.request_hash INTO hold_id, v_existing_hash
          FROM ledger_hold h WHERE h.hub_id = p_hub AND h.key = p_key;
        IF v_existing_hash <> p_hash THEN
            RAISE EXCEPTION 'hubtab:idempotency_conflict:The key % was already used for a different hold.', p_key;
        END IF;
        replayed := true;
        RETURN;
    END IF;
    replayed := false;
    SELECT a.status, a.floor_minor, a.shard_count INTO v_acc FROM ledger_account a
     WHERE a.id = p_account AND a.hub_id = p_hub;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'hubtab:account_not_found:That account does not exist at this hub.';
    ELSIF v_acc.status <> 'open' THEN
        RAISE EXCEPTION 'hubtab:account_closed:That account is closed.';
    ELSIF v_acc.shard_count <> 1 THEN
        RAISE EXCEPTION 'hubtab:hold_not_allowed:Holds are placed on customer and organisation accounts only.';
    END IF;
    SELECT b.balance_minor, b.held_minor INTO v_bal FROM ledger_balance b
     WHERE b.account_id = p_account AND b.shard = 0 FOR UPDATE;
    IF v_acc.floor_minor IS NOT NULL AND v_bal.balance_minor - v_bal.held_minor - v_acc.floor_minor < p_amount THEN
        RAISE EXCEPTION 'hubtab:insufficient_funds:Not enough spendable credit to hold this amount.';
    END IF;
    UPDATE ledger_balance SET held_minor = held_minor + p_amount WHERE account_id = p_account AND shard = 0;
END
$fn$;


CREATE OR REPLACE FUNCTION hubtab_hold_finish(
    p_hub bigint, p_hold bigint, p_action text, p_capture_minor bigint, p_to_account bigint,
    p_key text, p_hash text, p_actor bigint, p_now timestamptz,
    OUT transaction_id bigint, OUT replayed boolean)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_hold record;
    v_unit text;
    v_to_unit text;
    v_post record;
    v_status text;
BEGIN
    SELECT * INTO v_hold FROM ledger_hold h WHERE h.id = p_hold AND h.hub_id = p_hub FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'hubtab:hold_not_found:That hold does not exist at this hub.';
    END IF;
    v_status := CASE p_action WHEN 'capture' THEN 'captured' WHEN 'void' THEN 'voided' ELSE 'expired' END;
    IF v_hold.status <> 'held' THEN
        IF v_hold.status = v_status AND p_action <> 'capture' THEN
            replayed := true; RETURN;
        END IF;
        IF v_hold.status = 'captured' AND p_action = 'capture' THEN
            SELECT t.id INTO transaction_id FROM ledger_transaction t
             WHERE t.id = v_hold.capture_transaction_id AND t.key = p_key AND t.request_hash = p_hash;
            IF FOUND THEN replayed := true; RETURN; END IF;
        END IF;
        RAISE EXCEPTION 'hubtab:hold_not_active:That hold is already %.', v_hold.status;
    END IF;
    replayed := false;
    IF p_action = 'expire' AND (v_hold.expires_at IS NULL OR v_hold.expires_at > p_now) THEN
        RAISE EXCEPTION 'hubtab:hold_not_expired:That hold has not reached its expiry time.';
    END IF;
    IF p_action = 'capture' THEN
        SELECT a.unit INTO v_unit FROM ledger_account a WHERE a.id = v_hold.account_id;
        SELECT a.unit INTO v_to_unit FROM ledger_account a WHERE a.id = p_to_account AND a.hub_id = p_hub;
        IF v_to_unit IS NULL THEN
            RAISE EXCEPTION 'hubtab:account_not_found:The capture account does not exist at this hub.';
        END IF;
        SELECT * INTO v_post FROM hubtab_post(
            p_hub, p_key, p_hash, 'hold_capture', v_hold.reference, p_actor, '', NULL,
            ARRAY[v_hold.account_id, p_to_account], ARRAY[-p_capture_minor, p_capture_minor],
            ARRAY[v_unit, v_to_unit], ARRAY[NULL, NULL]::text[], ARRAY[NULL, NULL]::timestamptz[],
            ARRAY[NULL, NULL]::bigint[], v_hold.account_id, v_hold.amount_minor);
        IF v_post.replayed THEN
            RAISE EXCEPTION 'hubtab:idempotency_conflict:The key % was already used for another transaction.', p_key;
        END IF;
        transaction_id := v_post.transaction_id;
        UPDATE ledger_hold SET status = 'captured', captured_minor = p_capture_minor,
               capture_transaction_id = transaction_id, finished_at = clock_timestamp()
         WHERE id = p_hold;
    ELSE
        UPDATE ledger_balance SET held_minor = held_minor - v_hold.amount_minor
         WHERE account_id = v_hold.account_id AND shard = 0;
        UPDATE ledger_hold SET status = v_status, finished_at = clock_timestamp() WHERE id = p_hold;
    END IF;
END
$fn$;


CREATE OR REPLACE FUNCTION hubtab_lot_expire(
    p_hub bigint, p_lot bigint, p_expense_account bigint, p_now timestamptz,
    OUT transaction_id bigint, OUT expired_minor bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_lot record;
    v_acc record;
    v_bal record;
    v_post record;
BEGIN
    SELECT l.account_id, l.expires_at, l.kind INTO v_lot FROM ledger_lot l WHERE l.id = p_lot AND l.hub_id = p_hub;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'hubtab:lot_not_found:That lot does not exist at this hub.';
    END IF;
    IF v_lot.expires_at IS NULL OR v_lot.expires_at > p_now THEN
        expired_minor := 0; RETURN;
    END IF;
    SELECT b.balance_minor, b.held_minor, b.version INTO v_bal FROM ledger_balance b
     WHERE b.account_id = v_lot.account_id AND b.shard = 0 FOR UPDATE;
    SELECT a.unit, a.floor_minor INTO v_acc FROM ledger_account a WHERE a.id = v_lot.account_id;
    -- Read under the account's lock: what is left now, less any part still backing a hold
    -- (an order placed before the expiry keeps the credit it reserved).
    SELECT CASE WHEN v_acc.floor_minor IS NULL THEN l.remaining_minor
                ELSE least(l.remaining_minor, greatest(0, v_bal.balance_minor - v_bal.held_minor - v_acc.floor_minor)) END
      INTO expired_minor FROM ledger_lot l WHERE l.id = p_lot;
    IF expired_minor = 0 THEN RETURN; END IF;
    SELECT * INTO v_post FROM hubtab_post(
        p_hub, 'lot-expiry:' || p_lot || ':v' || v_bal.version, 'lot-expiry', 'lot_expiry',
        'Credit expired', NULL, '', NULL,
        ARRAY[v_lot.account_id, p_expense_account], ARRAY[-expired_minor, expired_minor],
        ARRAY[v_acc.unit, v_acc.unit], ARRAY[NULL, NULL]::text[], ARRAY[NULL, NULL]::timestamptz[],
        ARRAY[p_lot, NULL]::bigint[], NULL, NULL);
    transaction_id := v_post.transaction_id;
END
$fn$;


-- Entries and transactions are immutable: corrections are new reversing transactions.
CREATE OR REPLACE FUNCTION hubtab_immutable() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    RAISE EXCEPTION 'hubtab:immutable:Ledger % rows are never changed or deleted; post a reversal instead.', TG_TABLE_NAME;
END
$fn$;
DROP TRIGGER IF EXISTS ledger_entry_immutable ON ledger_entry;
CREATE TRIGGER ledger_entry_immutable BEFORE UPDATE OR DELETE ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION hubtab_immutable();
DROP TRIGGER IF EXISTS ledger_transaction_immutable ON ledger_transaction;
CREATE TRIGGER ledger_transaction_immutable BEFORE UPDATE OR DELETE ON ledger_transaction
    FOR EACH ROW EXECUTE FUNCTION hubtab_immutable();
