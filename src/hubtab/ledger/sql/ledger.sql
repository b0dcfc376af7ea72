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
-- Kept to few statements on purpose: every account's balance row is read once while it is
-- locked, worked on in the arrays below, and written back in one UPDATE.
DECLARE
    v_existing_hash text;
    v_n int := array_length(p_accounts, 1);
    a_ids bigint[] := '{}';
    a_units text[] := '{}';
    v_bounded bigint[];
    v_unbounded bigint[];     -- account id * 1024 + shard count, sorted by account id
    v_lot_bearing bigint[];
    v_floors bigint[] := '{}';
    v_row record;
    -- working state, one slot per account touched
    s_acc bigint[] := '{}';
    s_shard int[] := '{}';
    s_bal bigint[] := '{}';
    s_held bigint[] := '{}';
    s_ver bigint[] := '{}';
    s_net bigint[] := '{}';
    v_acc bigint;
    v_shards int;
    v_shard int;
    v_k int;
    v_now timestamptz;
    v_i int;
    v_m bigint;
    v_take bigint;
    v_need bigint;
    v_lot_id bigint;
    v_lot_rem bigint;
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

    -- Validate every account once (same hub, open, the leg's unit) and sort them by how they lock.
    FOR v_row IN SELECT a.id, a.unit, a.status, a.kind, a.shard_count FROM ledger_account a
                  WHERE a.id = ANY(p_accounts) AND a.hub_id = p_hub ORDER BY a.id LOOP
        IF v_row.status <> 'open' THEN
            RAISE EXCEPTION 'hubtab:account_closed:An account in this transaction is closed.';
        END IF;
        a_ids := a_ids || v_row.id;
        a_units := a_units || v_row.unit;
        IF v_row.shard_count = 1 THEN
            v_bounded := v_bounded || v_row.id;
        ELSE
            v_unbounded := v_unbounded || (v_row.id * 1024 + v_row.shard_count);
        END IF;
        IF v_row.kind IN ('customer', 'organisation') THEN
            v_lot_bearing := v_lot_bearing || v_row.id;
        END IF;
    END LOOP;
    FOR v_i IN 1..v_n LOOP
        v_k := array_position(a_ids, p_accounts[v_i]);
        IF v_k IS NULL THEN
            RAISE EXCEPTION 'hubtab:account_not_found:An account in this transaction does not exist at this hub.';
        ELSIF a_units[v_k] <> p_units[v_i] THEN
            RAISE EXCEPTION 'hubtab:unit_mismatch:A leg''s unit differs from its account''s unit.';
        END IF;
    END LOOP;

    -- Bounded accounts: wait for their single balance row, in account id order (no deadlocks).
    IF v_bounded IS NOT NULL THEN
        -- The floor is read from the locked row: a floor changed while we waited is the one that applies.
        FOR v_row IN SELECT b.account_id, b.balance_minor, b.held_minor, b.version, b.floor_minor, b.is_open
                       FROM ledger_balance b
                      WHERE b.account_id = ANY(v_bounded) AND b.shard = 0
                      ORDER BY b.account_id FOR UPDATE LOOP
            -- Read under the lock too: an account closed while we waited takes nothing more.
            IF NOT v_row.is_open THEN
                RAISE EXCEPTION 'hubtab:account_closed:An account in this transaction is closed.';
            END IF;
            s_acc := s_acc || v_row.account_id; s_shard := s_shard || 0; s_bal := s_bal || v_row.balance_minor;
            s_held := s_held || v_row.held_minor; s_ver := s_ver || v_row.version; s_net := s_net || 0::bigint;
            v_floors := v_floors || v_row.floor_minor;
        END LOOP;
    END IF;
    -- Unbounded accounts: take any free shard, each connection starting at its own; wait only
    -- if every shard is busy, and only after every bounded lock is held.
    IF v_unbounded IS NOT NULL THEN
        FOREACH v_m IN ARRAY v_unbounded LOOP
            v_acc := v_m / 1024;
            v_shards := v_m % 1024;
            SELECT b.shard, b.balance_minor, b.held_minor, b.version INTO v_row FROM ledger_balance b
              WHERE b.account_id = v_acc
              ORDER BY (b.shard - pg_backend_pid() % v_shards + v_shards) % v_shards
              FOR UPDATE SKIP LOCKED LIMIT 1;
            IF NOT FOUND THEN
                SELECT b.shard, b.balance_minor, b.held_minor, b.version INTO v_row FROM ledger_balance b
                 WHERE b.account_id = v_acc AND b.shard = pg_backend_pid() % v_shards FOR UPDATE;
            END IF;
            s_acc := s_acc || v_acc; s_shard := s_shard || v_row.shard; s_bal := s_bal || v_row.balance_minor;
            s_held := s_held || v_row.held_minor; s_ver := s_ver || v_row.version; s_net := s_net || 0::bigint;
        END LOOP;
    END IF;
    v_now := clock_timestamp();

    FOR v_i IN 1..v_n LOOP
        v_acc := p_accounts[v_i];
        v_m := p_amounts[v_i];
        v_k := array_position(s_acc, v_acc);
        v_shard := s_shard[v_k];
        s_net[v_k] := s_net[v_k] + v_m;
        IF v_lot_bearing IS NULL OR NOT v_acc = ANY(v_lot_bearing) THEN
            s_bal[v_k] := s_bal[v_k] + v_m; s_ver[v_k] := s_ver[v_k] + 1;
            e_acc := e_acc || v_acc; e_shard := e_shard || v_shard; e_amt := e_amt || v_m;
            e_bal := e_bal || s_bal[v_k]; e_ver := e_ver || s_ver[v_k]; e_lot := e_lot || NULL::bigint;
        ELSIF v_m > 0 THEN
            -- A credit repays debt first; the rest tops up the paid lot, or becomes a granted lot.
            IF s_bal[v_k] < 0 THEN
                v_take := least(v_m, -s_bal[v_k]);
                s_bal[v_k] := s_bal[v_k] + v_take; s_ver[v_k] := s_ver[v_k] + 1; v_m := v_m - v_take;
                e_acc := e_acc || v_acc; e_shard := e_shard || 0; e_amt := e_amt || v_take;
                e_bal := e_bal || s_bal[v_k]; e_ver := e_ver || s_ver[v_k]; e_lot := e_lot || NULL::bigint;
            END IF;
            IF v_m > 0 THEN
                v_lot_id := NULL;
                IF coalesce(p_lot_kinds[v_i], 'paid') = 'paid' THEN
                    UPDATE ledger_lot SET amount_minor = amount_minor + v_m, remaining_minor = remaining_minor + v_m,
                           is_open = true
                     WHERE account_id = v_acc AND kind = 'paid'
                    RETURNING id INTO v_lot_id;
                END IF;
                IF v_lot_id IS NULL THEN
                    INSERT INTO ledger_lot (hub_id, account_id, kind, amount_minor, remaining_minor, is_open,
                                            expires_at, transaction_id, created_at)
                    VALUES (p_hub, v_acc, coalesce(p_lot_kinds[v_i], 'paid'), v_m, v_m, true, p_lot_expires[v_i],
                            transaction_id, v_now)
                    RETURNING id INTO v_lot_id;
                END IF;
                s_bal[v_k] := s_bal[v_k] + v_m; s_ver[v_k] := s_ver[v_k] + 1;
                e_acc := e_acc || v_acc; e_shard := e_shard || 0; e_amt := e_amt || v_m;
                e_bal := e_bal || s_bal[v_k]; e_ver := e_ver || s_ver[v_k]; e_lot := e_lot || v_lot_id;
            END IF;
        ELSE
            -- A debit draws the named lot first, then in index order: granted lots soonest-expiring
            -- first (never last, oldest first), then the paid lot ('granted' < 'paid'). What no
            -- lot covers is debt, within the floor.
            v_need := -v_m;
            WHILE v_need > 0 LOOP
                v_lot_id := NULL;
                IF p_draw_lots[v_i] IS NOT NULL THEN
                    SELECT l.id, l.remaining_minor INTO v_lot_id, v_lot_rem FROM ledger_lot l
                     WHERE l.id = p_draw_lots[v_i] AND l.account_id = v_acc AND l.is_open;
                END IF;
                IF v_lot_id IS NULL THEN
                    SELECT l.id, l.remaining_minor INTO v_lot_id, v_lot_rem FROM ledger_lot l
                     WHERE l.account_id = v_acc AND l.is_open
                     ORDER BY l.kind, l.expires_at, l.id LIMIT 1;
                    EXIT WHEN NOT FOUND;
                END IF;
                v_take := least(v_need, v_lot_rem);
                UPDATE ledger_lot SET remaining_minor = remaining_minor - v_take,
                       is_open = remaining_minor - v_take > 0
                 WHERE id = v_lot_id;
                v_need := v_need - v_take; s_bal[v_k] := s_bal[v_k] - v_take; s_ver[v_k] := s_ver[v_k] + 1;
                e_acc := e_acc || v_acc; e_shard := e_shard || 0; e_amt := e_amt || -v_take;
                e_bal := e_bal || s_bal[v_k]; e_ver := e_ver || s_ver[v_k]; e_lot := e_lot || v_lot_id;
            END LOOP;
            IF v_need > 0 THEN
                s_bal[v_k] := s_bal[v_k] - v_need; s_ver[v_k] := s_ver[v_k] + 1;
                e_acc := e_acc || v_acc; e_shard := e_shard || 0; e_amt := e_amt || -v_need;
                e_bal := e_bal || s_bal[v_k]; e_ver := e_ver || s_ver[v_k]; e_lot := e_lot || NULL::bigint;
            END IF;
        END IF;
    END LOOP;

    IF p_release_account IS NOT NULL THEN
        v_k := array_position(s_acc, p_release_account);
        s_held[v_k] := s_held[v_k] - p_release_minor;
    END IF;

    -- Floors: an account this transaction took value from must stay at or above its floor,
    -- counting what is held on it. Bounded accounts fill the first slots, in v_bounded order.
    IF v_bounded IS NOT NULL THEN
        FOR v_k IN 1..array_length(v_bounded, 1) LOOP
            IF s_net[v_k] < 0 AND v_floors[v_k] IS NOT NULL AND s_bal[v_k] - s_held[v_k] < v_floors[v_k] THEN
                RAISE EXCEPTION 'hubtab:insufficient_funds:Not enough spendable credit for this transaction.';
            END IF;
        END LOOP;
    END IF;

    UPDATE ledger_balance b SET balance_minor = s.bal, held_minor = s.held, version = s.ver
      FROM unnest(s_acc, s_shard, s_bal, s_held, s_ver) AS s(acc, shard, bal, held, ver)
     WHERE b.account_id = s.acc AND b.shard = s.shard;

    INSERT INTO ledger_entry (hub_id, transaction_id, account_id, shard, unit, amount_minor,
                              balance_after_minor, version, lot_id, posted_at)
    SELECT p_hub, transaction_id, e.acc, e.shard, p_units[array_position(p_accounts, e.acc)], e.amt, e.bal,
           e.ver, e.lot, v_now
      FROM unnest(e_acc, e_shard, e_amt, e_bal, e_ver, e_lot) AS e(acc, shard, amt, bal, ver, lot);
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
    SELECT b.balance_minor, b.held_minor, b.floor_minor, b.is_open INTO v_bal FROM ledger_balance b
     WHERE b.account_id = p_account AND b.shard = 0 FOR UPDATE;
    IF NOT v_bal.is_open THEN
        RAISE EXCEPTION 'hubtab:account_closed:That account is closed.';
    END IF;
    IF v_bal.floor_minor IS NOT NULL AND v_bal.balance_minor - v_bal.held_minor - v_bal.floor_minor < p_amount THEN
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
        IF v_to_unit <> v_unit THEN
            RAISE EXCEPTION 'hubtab:unit_mismatch:The capture account counts in % but the hold in %.', v_to_unit, v_unit;
        END IF;
        IF p_to_account = v_hold.account_id THEN
            RAISE EXCEPTION 'hubtab:invalid_capture_account:A hold is captured into another account than its own.';
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
    SELECT b.balance_minor, b.held_minor, b.version, b.floor_minor INTO v_bal FROM ledger_balance b
     WHERE b.account_id = v_lot.account_id AND b.shard = 0 FOR UPDATE;
    SELECT a.unit INTO v_acc FROM ledger_account a WHERE a.id = v_lot.account_id;
    -- Read under the account's lock: what is left now, less any part still backing a hold
    -- (an order placed before the expiry keeps the credit it reserved).
    -- Credit still needed by open holds stays, whatever debt the floor would allow.
    SELECT least(l.remaining_minor, greatest(0, v_bal.balance_minor - v_bal.held_minor))
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
