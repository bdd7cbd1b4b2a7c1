-- Staff review through Supabase (issue 15): RPCs a staff client calls with supabase.rpc(...),
-- the same functions the operator's CLI calls as the service.
--
--   review_confirm_order_v1   staff+   confirm every line as it is (learning loop), order -> confirmed
--   review_correct_line_v1    staff+   a line's product and/or quantity (learning loop), order.updated
--   review_add_line_v1        staff+   a line the analyzer missed (training data), order.updated
--   review_remove_line_v1     staff+   a line that should not be there (training data), order.updated
--   review_cancel_order_v1    staff+   order -> cancelled, order.cancelled
--   review_add_alias_v1       manager+ a catalog alias of a product
--
-- They run as the caller (security invoker): a signed-in user reaches only their distributor's
-- rows through RLS, so another tenant's order is simply not found; the role is checked first
-- (viewers act on nothing). The service (worker, CLI, service_role: no signed-in user) may act on
-- any distributor. Corrections and confirmations go through correct_order_line_v1, so they write
-- ai_training_data and learned aliases exactly as before. Every call is audited: the row changes
-- by the data_access_audit triggers, and one security_audit_log event `order_reviewed` (or
-- `catalog_alias_added`) naming the action and the actor. Each order change is a revision
-- (private.record_order_revision_v1: orders.revision + 1, an order_revisions row, the order.*
-- webhook event with the whole order), written by private.finish_review_v1, which is security
-- definer (authenticated may write neither the outbox nor the revisions) and re-checks the caller.

-- May the caller act with at least p_min? The service (no signed-in user, not anon) always.
create function private.review_allowed(p_min public.user_role) returns boolean
language sql stable
set search_path = ''
as $$
  select case
    when (select auth.uid()) is null then
      coalesce((select auth.role()), 'service') not in ('anon', 'authenticated')
      and current_user not in ('anon', 'authenticated')
    else (select private.current_role_rank()) >= private.role_rank(p_min)
  end
$$;

create function private.require_review_role(p_min public.user_role, p_action text) returns void
language plpgsql stable
set search_path = ''
as $$
begin
  if not private.review_allowed(p_min) then
    raise exception '% needs the % role or above', p_action, p_min using errcode = '42501';
  end if;
end
$$;

-- Audit one review action and announce the order's new state (p_event: order.updated,
-- order.confirmed, order.cancelled; null: audit only). Re-checks that a signed-in caller belongs
-- to the order's distributor with a staff role, since it runs as the owner.
create function private.finish_review_v1(p_order_id uuid, p_event text, p_change jsonb) returns void
language plpgsql security definer
set search_path = ''
as $$
declare
  v_order record;
begin
  select o.distributor_id, o.ai_source_message_id into v_order from public.orders o where o.id = p_order_id;
  if not found or ((select auth.uid()) is not null
                   and (v_order.distributor_id is distinct from (select public.get_current_distributor_id())
                        or (select private.current_role_rank()) < private.role_rank('staff'))) then
    raise exception 'order % not found', p_order_id using errcode = 'P0002';
  end if;
  perform private.log_security_event(v_order.distributor_id, 'order_reviewed', 'info', private.current_actor(),
    jsonb_build_object('order_id', p_order_id, 'event', p_event) || coalesce(p_change, '{}'::jsonb));
  if p_event is not null then
    -- orders.revision + 1, the order_revisions row and the webhook event with the whole order
    -- (20261205140000_order_revisions.sql). A signed-in user acts as staff, the service as the CLI.
    perform private.record_order_revision_v1(v_order.distributor_id, p_order_id, p_event,
      case when (select auth.uid()) is null then 'cli' else 'staff' end, null, (select auth.uid()),
      coalesce(p_change, '{}'::jsonb));
  end if;
end
$$;

-- After a line changed: totals, and the order leaves review once no line needs one.
create function private.review_refresh_order(p_distributor_id uuid, p_order_id uuid) returns public.order_status
language plpgsql
set search_path = ''
as $$
declare
  v_total bigint;
  v_open integer;
  v_status public.order_status;
begin
  select coalesce(sum(op.total_cents), 0), count(*) filter (where op.review_reason is not null)
    into v_total, v_open
    from public.order_products op where op.distributor_id = p_distributor_id and op.order_id = p_order_id;
  update public.orders o
     set subtotal_cents = v_total, total_cents = v_total,
         status = case when o.status = 'needs_review' and v_open = 0 then 'created' else o.status end,
         review_reasons = case when v_open = 0 then '{}' else o.review_reasons end
   where o.distributor_id = p_distributor_id and o.id = p_order_id
  returning o.status into v_status;
  return v_status;
end
$$;

-- The order (locked) a review action works on, refused when it no longer changes.
create function private.review_open_order(p_order_id uuid) returns public.orders
language plpgsql
set search_path = ''
as $$
declare
  v_order public.orders;
begin
  select o.* into v_order from public.orders o where o.id = p_order_id for update;
  if not found then
    raise exception 'order % not found', p_order_id using errcode = 'P0002';
  end if;
  if v_order.status in ('cancelled', 'fulfilled') then
    raise exception 'order % is %: it can no longer change', p_order_id, v_order.status using errcode = '55000';
  end if;
  return v_order;
end
$$;

create function public.review_correct_line_v1(
  p_line_id uuid,
  p_product_id uuid default null,
  p_quantity numeric default null,
  p_confirm boolean default false,
  p_alias text default null
) returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_result jsonb;
begin
  perform private.require_review_role('staff', 'correcting an order line');
  v_result := public.correct_order_line_v1(p_line_id, p_product_id, p_quantity, coalesce(p_confirm, false), p_alias);
  perform private.finish_review_v1((v_result ->> 'order_id')::uuid, 'order.updated',
    jsonb_build_object('action', 'correct_line', 'line_id', p_line_id, 'line_no', v_result -> 'line_no',
                       'correction_type', v_result -> 'correction_type', 'sku', v_result -> 'sku',
                       'quantity', v_result -> 'quantity'));
  return v_result;
end
$$;
comment on function public.review_correct_line_v1 is
  'Staff+: correct a line''s product and/or quantity (or confirm it); learning loop, audit, order.updated';

-- p_aliases: {line id: alias} computed by the service with the matcher's normalisation; a line
-- missing from it gets the alias derived in SQL ('' learns none).
create function public.review_confirm_order_v1(p_order_id uuid, p_aliases jsonb default '{}'::jsonb)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_order public.orders;
  v_line record;
  v_lines jsonb := '[]'::jsonb;
  v_missing text;
begin
  perform private.require_review_role('staff', 'confirming an order');
  v_order := private.review_open_order(p_order_id);
  select string_agg(op.line_no::text, ', ' order by op.line_no) into v_missing
    from public.order_products op
   where op.distributor_id = v_order.distributor_id and op.order_id = v_order.id and op.product_id is null;
  if v_missing is not null then
    raise exception 'line(s) % of order % have no product: correct them first', v_missing, p_order_id
      using errcode = '22023';
  end if;
  if not exists (select from public.order_products op
                  where op.distributor_id = v_order.distributor_id and op.order_id = v_order.id) then
    raise exception 'order % has no lines: cancel it instead', p_order_id using errcode = '22023';
  end if;
  for v_line in
    select op.id, op.match_method from public.order_products op
     where op.distributor_id = v_order.distributor_id and op.order_id = v_order.id order by op.line_no
  loop
    -- a line staff added names the product by its catalog name: nothing to learn from it
    v_lines := v_lines || public.correct_order_line_v1(v_line.id, null, null, true,
      case when v_line.match_method = 'staff' then '' else coalesce(p_aliases, '{}'::jsonb) ->> v_line.id::text end);
  end loop;
  update public.orders o set status = 'confirmed', confirmed_at = now()
   where o.distributor_id = v_order.distributor_id and o.id = v_order.id;
  perform private.finish_review_v1(v_order.id, 'order.confirmed',
    jsonb_build_object('action', 'confirm_order', 'lines', jsonb_array_length(v_lines)));
  return jsonb_build_object('order_id', v_order.id, 'order_status', 'confirmed', 'lines', v_lines);
end
$$;
comment on function public.review_confirm_order_v1 is
  'Staff+: confirm every line of an order as it is (learning loop) and the order; audit, order.confirmed';

create function public.review_add_line_v1(p_order_id uuid, p_product_id uuid, p_quantity numeric)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_order public.orders;
  v_product record;
  v_line_id uuid;
  v_line_no integer;
  v_status public.order_status;
begin
  perform private.require_review_role('staff', 'adding an order line');
  v_order := private.review_open_order(p_order_id);
  select p.id, p.sku, p.name, p.unit, p.price_cents into v_product from public.products p
   where p.distributor_id = v_order.distributor_id and p.id = p_product_id and p.active;
  if not found then
    raise exception 'no active product % in this distributor''s catalog', p_product_id using errcode = '22023';
  end if;
  if p_quantity is null or p_quantity <= 0 then
    raise exception 'quantity must be positive, got %', p_quantity using errcode = '22023';
  end if;
  select coalesce(max(op.line_no), 0) + 1 into v_line_no from public.order_products op
   where op.distributor_id = v_order.distributor_id and op.order_id = v_order.id;
  insert into public.order_products (distributor_id, order_id, product_id, line_no, customer_text, sku, product_name,
                                     quantity, unit, unit_price_cents, total_cents, confidence, match_method)
  values (v_order.distributor_id, v_order.id, v_product.id, v_line_no, v_product.name, v_product.sku, v_product.name,
          p_quantity, v_product.unit, v_product.price_cents, round(v_product.price_cents * p_quantity)::bigint, 1, 'staff')
  returning id into v_line_id;
  -- The analyzer missed this line: training data for the source message.
  insert into public.ai_training_data (distributor_id, message_id, ai_response_id, order_product_id, customer_id,
                                       input_text, expected_output, correction_type, created_by)
  select v_order.distributor_id, v_order.ai_source_message_id,
         (select r.id from public.ai_responses r where r.distributor_id = v_order.distributor_id
             and r.message_id = v_order.ai_source_message_id order by r.created_at desc limit 1),
         v_line_id, v_order.customer_id, coalesce(m.body_redacted, ''),
         jsonb_build_object('sku', v_product.sku, 'quantity', p_quantity, 'added', true), 'product',
         (select u.id from public.user_profiles u where u.distributor_id = v_order.distributor_id
             and u.id = (select auth.uid()))
    from (select) x
    left join public.messages m on m.distributor_id = v_order.distributor_id and m.id = v_order.ai_source_message_id;
  v_status := private.review_refresh_order(v_order.distributor_id, v_order.id);
  perform private.finish_review_v1(v_order.id, 'order.updated',
    jsonb_build_object('action', 'add_line', 'line_id', v_line_id, 'line_no', v_line_no, 'sku', v_product.sku,
                       'quantity', p_quantity));
  return jsonb_build_object('order_id', v_order.id, 'order_status', v_status, 'line_id', v_line_id,
                            'line_no', v_line_no, 'sku', v_product.sku, 'quantity', p_quantity);
end
$$;
comment on function public.review_add_line_v1 is 'Staff+: add a line the analyzer missed; training data, audit, order.updated';

create function public.review_remove_line_v1(p_line_id uuid) returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_line record;
  v_order public.orders;
  v_status public.order_status;
begin
  perform private.require_review_role('staff', 'removing an order line');
  select op.id, op.order_id, op.line_no, op.sku, op.quantity, op.customer_text into v_line
    from public.order_products op where op.id = p_line_id;
  if not found then
    raise exception 'order line % not found', p_line_id using errcode = 'P0002';
  end if;
  v_order := private.review_open_order(v_line.order_id);
  if not exists (select from public.order_products op where op.distributor_id = v_order.distributor_id
                    and op.order_id = v_order.id and op.id <> v_line.id) then
    raise exception 'line % is the order''s last: cancel the order instead', v_line.line_no using errcode = '22023';
  end if;
  -- The line should not exist: the matcher's choice was wrong, and the analyzer gets a negative example.
  update public.product_matching_history h set accepted = false
   where h.distributor_id = v_order.distributor_id and h.order_product_id = v_line.id;
  insert into public.ai_training_data (distributor_id, message_id, ai_response_id, order_product_id, customer_id,
                                       input_text, expected_output, correction_type, created_by)
  values (v_order.distributor_id, v_order.ai_source_message_id,
          (select r.id from public.ai_responses r where r.distributor_id = v_order.distributor_id
              and r.message_id = v_order.ai_source_message_id order by r.created_at desc limit 1),
          v_line.id, v_order.customer_id, v_line.customer_text,
          jsonb_build_object('sku', null, 'quantity', 0, 'removed', true, 'was_sku', v_line.sku), 'product',
          (select u.id from public.user_profiles u where u.distributor_id = v_order.distributor_id
              and u.id = (select auth.uid())));
  delete from public.order_products op where op.distributor_id = v_order.distributor_id and op.id = v_line.id;
  v_status := private.review_refresh_order(v_order.distributor_id, v_order.id);
  perform private.finish_review_v1(v_order.id, 'order.updated',
    jsonb_build_object('action', 'remove_line', 'line_id', v_line.id, 'line_no', v_line.line_no, 'sku', v_line.sku));
  return jsonb_build_object('order_id', v_order.id, 'order_status', v_status, 'line_no', v_line.line_no);
end
$$;
comment on function public.review_remove_line_v1 is 'Staff+: remove a wrong line; training data, audit, order.updated';

create function public.review_cancel_order_v1(p_order_id uuid, p_reason text default null) returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_order public.orders;
begin
  perform private.require_review_role('staff', 'cancelling an order');
  v_order := private.review_open_order(p_order_id);
  update public.orders o
     set status = 'cancelled',
         notes = case when nullif(btrim(p_reason), '') is null then o.notes
                      else concat_ws(E'\n', o.notes, 'cancelled: ' || btrim(p_reason)) end
   where o.distributor_id = v_order.distributor_id and o.id = v_order.id;
  perform private.finish_review_v1(v_order.id, 'order.cancelled',
    jsonb_build_object('action', 'cancel_order', 'reason', nullif(btrim(p_reason), '')));
  return jsonb_build_object('order_id', v_order.id, 'order_status', 'cancelled');
end
$$;
comment on function public.review_cancel_order_v1 is 'Staff+: cancel an order; audit, order.cancelled';

create function private.log_alias_added(p_distributor_id uuid, p_details jsonb) returns void
language plpgsql security definer
set search_path = ''
as $$
begin
  if (select auth.uid()) is not null
     and (p_distributor_id is distinct from (select public.get_current_distributor_id())
          or (select private.current_role_rank()) < private.role_rank('manager')) then
    raise exception 'not allowed' using errcode = '42501';
  end if;
  perform private.log_security_event(p_distributor_id, 'catalog_alias_added', 'info', private.current_actor(),
                                     p_details);
end
$$;

create function public.review_add_alias_v1(p_product_id uuid, p_alias text) returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_alias text := nullif(btrim(lower(p_alias)), '');
  v_product record;
  v_added boolean;
begin
  perform private.require_review_role('manager', 'adding a catalog alias');
  if v_alias is null then
    raise exception 'an alias needs words' using errcode = '22023';
  end if;
  select p.id, p.distributor_id, p.sku, p.aliases into v_product from public.products p where p.id = p_product_id
    for update;
  if not found then
    raise exception 'product % not found', p_product_id using errcode = 'P0002';
  end if;
  v_added := not (v_alias = any (v_product.aliases));
  if v_added then
    update public.products p set aliases = p.aliases || v_alias
     where p.distributor_id = v_product.distributor_id and p.id = v_product.id;
  end if;
  perform private.log_alias_added(v_product.distributor_id,
    jsonb_build_object('product_id', v_product.id, 'sku', v_product.sku, 'alias', v_alias, 'added', v_added));
  return jsonb_build_object('product_id', v_product.id, 'sku', v_product.sku, 'alias', v_alias, 'added', v_added);
end
$$;
comment on function public.review_add_alias_v1 is 'Manager+: add an alias to a catalog product (the matcher reads it); audited';

revoke execute on function private.review_allowed(public.user_role), private.require_review_role(public.user_role, text),
  private.finish_review_v1(uuid, text, jsonb), private.review_refresh_order(uuid, uuid), private.review_open_order(uuid),
  private.log_alias_added(uuid, jsonb) from public;
grant execute on function private.review_allowed(public.user_role), private.require_review_role(public.user_role, text),
  private.finish_review_v1(uuid, text, jsonb), private.review_refresh_order(uuid, uuid), private.review_open_order(uuid),
  private.log_alias_added(uuid, jsonb) to authenticated, service_role;

revoke execute on function public.review_correct_line_v1(uuid, uuid, numeric, boolean, text),
  public.review_confirm_order_v1(uuid, jsonb), public.review_add_line_v1(uuid, uuid, numeric),
  public.review_remove_line_v1(uuid), public.review_cancel_order_v1(uuid, text),
  public.review_add_alias_v1(uuid, text) from public, anon;
grant execute on function public.review_correct_line_v1(uuid, uuid, numeric, boolean, text),
  public.review_confirm_order_v1(uuid, jsonb), public.review_add_line_v1(uuid, uuid, numeric),
  public.review_remove_line_v1(uuid), public.review_cancel_order_v1(uuid, text),
  public.review_add_alias_v1(uuid, text) to authenticated, service_role;
