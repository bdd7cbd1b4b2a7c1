-- The learning loop: when staff correct or confirm an order line in review, the correction
-- becomes ai_training_data and a learned alias (for the distributor and for the customer) that
-- the matcher uses from then on. correct_order_line_v1 is security invoker: a staff user runs it
-- under RLS (it reads the distributor from the line it can see), the service role runs it for
-- `orderflow orders correct|confirm`. An order that leaves review sends its order.created event.

create table public.learned_aliases (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  customer_id uuid,
  alias text not null check (alias <> '' and alias = lower(alias)),
  product_id uuid not null,
  source text not null check (source in ('correction', 'confirmation')),
  uses integer not null default 1 check (uses > 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  unique nulls not distinct (distributor_id, customer_id, alias),
  foreign key (distributor_id, customer_id) references public.customers (distributor_id, id) on delete cascade,
  foreign key (distributor_id, product_id) references public.products (distributor_id, id) on delete cascade
);
create index learned_aliases_product_idx on public.learned_aliases (distributor_id, product_id);
comment on table public.learned_aliases is 'What customers call a product, learned from staff corrections and confirmations in review';
comment on column public.learned_aliases.customer_id is 'Null: the distributor-wide alias; set: what this customer means by it';
comment on column public.learned_aliases.alias is 'The line''s product words, normalised as the matcher reads them (no count, no pack word, folded)';
comment on column public.learned_aliases.source is 'correction: staff changed the product; confirmation: staff kept what the analyzer chose';
comment on column public.learned_aliases.uses is 'How many reviews taught this alias for this product (back to 1 when the product changes)';

select private.enable_tenant_rls('public.learned_aliases', 'viewer', 'staff', 'manager');

-- Staff record in the matching history which product was right.
create policy "staff and above mark their distributor's matches corrected" on public.product_matching_history
  for update to authenticated
  using (distributor_id = (select public.get_current_distributor_id()) and (select private.current_role_rank()) >= 2)
  with check (distributor_id = (select public.get_current_distributor_id()));

-- The alias of a line's customer text when the caller gives none: lower case, no accents, no
-- leading count ("3 ", "x3 ", "dos ") and no trailing multiplier (" x 5"). orderflow's service
-- computes a better one with the matcher's own normalisation and passes it in.
create function private.learned_alias_text(p_text text)
returns text
language sql immutable
set search_path = ''
as $$
  select nullif(btrim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
           translate(lower(p_text), 'áàâãäéèêëíìîïóòôõöúùûüçñ', 'aaaaaeeeeiiiiooooouuuucn'),
           '^\s*(x\s*)?\d+([.,]\d+)?\s*(x\s+)?', ''),
           '^(un|una|uno|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|docena|one|two|three|four|five|six|seven|eight|nine|ten|dozen|um|duas|quatro)\s+', ''),
           '\s*x\s*\d+\s*$', ''),
           '\s+', ' ', 'g')), '')
$$;

-- Correct or confirm one order line. p_product_id / p_quantity: the right product and quantity
-- (null: keep the line's); p_confirm: record a review even when nothing changes. p_alias: the
-- normalised alias to learn (null: derive it here; '': learn none). Returns what it did.
create function public.correct_order_line_v1(
  p_order_product_id uuid,
  p_product_id uuid,
  p_quantity numeric,
  p_confirm boolean,
  p_alias text default null
) returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_line record;
  v_product record;
  v_quantity numeric;
  v_type text;
  v_alias text;
  v_source text;
  v_user uuid;
  v_response_id uuid;
  v_training_id uuid;
  v_total bigint;
  v_open integer;
  v_status public.order_status;
begin
  select op.id, op.distributor_id, op.order_id, op.line_no, op.customer_text, op.product_id, op.quantity,
         op.match_method, o.customer_id, o.ai_source_message_id, o.status
    into v_line
    from public.order_products op
    join public.orders o on o.distributor_id = op.distributor_id and o.id = op.order_id
   where op.id = p_order_product_id
     for update of op, o;
  if not found then
    raise exception 'order line % not found', p_order_product_id using errcode = 'P0002';
  end if;
  if v_line.status in ('cancelled', 'fulfilled') then
    raise exception 'order % is %: its lines can no longer change', v_line.order_id, v_line.status
      using errcode = '55000';
  end if;

  select p.id, p.sku, p.name, p.unit, p.price_cents into v_product
    from public.products p
   where p.distributor_id = v_line.distributor_id and p.id = coalesce(p_product_id, v_line.product_id);
  if not found then
    raise exception 'no product % in this distributor''s catalog (a line without product needs one)',
      coalesce(p_product_id::text, 'given') using errcode = '22023';
  end if;
  v_quantity := coalesce(p_quantity, v_line.quantity);
  if v_quantity <= 0 then
    raise exception 'quantity must be positive, got %', v_quantity using errcode = '22023';
  end if;
  v_type := case when v_product.id is distinct from v_line.product_id then 'product'
                 when v_quantity <> v_line.quantity then 'quantity'
                 when p_confirm then 'confirmed' end;
  if v_type is null then
    raise exception 'nothing to correct on line %: give a product, a quantity or confirm', v_line.id
      using errcode = '22023';
  end if;

  update public.order_products op
     set product_id = v_product.id, sku = v_product.sku, product_name = v_product.name, unit = v_product.unit,
         quantity = v_quantity, unit_price_cents = v_product.price_cents,
         total_cents = round(v_product.price_cents * v_quantity)::bigint, review_reason = null
   where op.distributor_id = v_line.distributor_id and op.id = v_line.id;

  select coalesce(sum(op.total_cents), 0), count(*) filter (where op.review_reason is not null)
    into v_total, v_open
    from public.order_products op
   where op.distributor_id = v_line.distributor_id and op.order_id = v_line.order_id;
  update public.orders o
     set subtotal_cents = v_total, total_cents = v_total,
         status = case when o.status = 'needs_review' and v_open = 0 then 'created' else o.status end,
         review_reasons = case when v_open = 0 then '{}'
                               else array(select r from unnest(o.review_reasons) r where r not like '%:line:' || v_line.line_no) end
   where o.distributor_id = v_line.distributor_id and o.id = v_line.order_id
  returning o.status into v_status;

  select p.id into v_user from public.user_profiles p
   where p.distributor_id = v_line.distributor_id and p.id = (select auth.uid());
  select r.id into v_response_id from public.ai_responses r
   where r.distributor_id = v_line.distributor_id and r.message_id = v_line.ai_source_message_id
   order by r.created_at desc limit 1;
  insert into public.ai_training_data (distributor_id, message_id, ai_response_id, order_product_id, customer_id,
                                       input_text, expected_output, correction_type, created_by)
  values (v_line.distributor_id, v_line.ai_source_message_id, v_response_id, v_line.id, v_line.customer_id,
          v_line.customer_text, jsonb_build_object('sku', v_product.sku, 'quantity', v_quantity), v_type, v_user)
  returning id into v_training_id;

  update public.product_matching_history h
     set corrected_product_id = case when h.chosen_product_id is distinct from v_product.id then v_product.id end,
         accepted = h.chosen_product_id is not distinct from v_product.id
   where h.distributor_id = v_line.distributor_id and h.order_product_id = v_line.id;

  -- a line copied from the last order ("lo mismo de siempre") names no product: nothing to learn
  v_alias := case when coalesce(v_line.match_method, '') like 'repeat %' then null
                  when p_alias is null then private.learned_alias_text(v_line.customer_text)
                  else nullif(btrim(lower(p_alias)), '') end;
  if v_alias is not null then
    v_source := case when v_type = 'product' then 'correction' else 'confirmation' end;
    insert into public.learned_aliases as la (distributor_id, customer_id, alias, product_id, source)
    values (v_line.distributor_id, null, v_alias, v_product.id, v_source),
           (v_line.distributor_id, v_line.customer_id, v_alias, v_product.id, v_source)
    on conflict (distributor_id, customer_id, alias) do update
      set uses = case when la.product_id = excluded.product_id then la.uses + 1 else 1 end,
          source = case when la.product_id = excluded.product_id and la.source = 'correction' then 'correction'
                        else excluded.source end,
          product_id = excluded.product_id;
  end if;

  return jsonb_build_object('order_id', v_line.order_id, 'order_status', v_status, 'line_no', v_line.line_no,
                            'correction_type', v_type, 'sku', v_product.sku, 'quantity', v_quantity,
                            'alias', v_alias, 'training_id', v_training_id);
end
$$;
comment on function public.correct_order_line_v1(uuid, uuid, numeric, boolean, text) is
  'Staff review of one order line: fix product/quantity or confirm; writes training data and learned aliases';

-- An order that leaves review (needs_review -> created) is announced like a new one. A trigger,
-- so the service and staff (under RLS) both send it; it runs as the owner to write the outbox.
create function private.order_reviewed_event()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.enqueue_event(new.distributor_id, 'order.created',
    private.order_event_data(new.distributor_id, new.id), new.ai_source_message_id, new.id);
  return null;
end
$$;
create trigger order_reviewed_event after update of status on public.orders
  for each row when (old.status = 'needs_review' and new.status = 'created')
  execute function private.order_reviewed_event();

revoke execute on function private.learned_alias_text(text), private.order_reviewed_event() from public;
grant execute on function private.learned_alias_text(text) to authenticated, service_role;
revoke execute on function public.correct_order_line_v1(uuid, uuid, numeric, boolean, text) from public, anon;
grant execute on function public.correct_order_line_v1(uuid, uuid, numeric, boolean, text) to authenticated, service_role;
