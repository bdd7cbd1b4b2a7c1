-- Orders are conversations (issue 17): a customer's open order takes follow-ups, corrections,
-- removals, cancellation and the customer's confirmation; "the usual" repeats the last order.
--
-- The worker decides what a message does to the customer's orders (worker/conversation.py) from
-- the analysis, the open order and the last order it read; record_outcome_v2 applies it in the
-- same transaction as everything else the message produced, as a revision of the order
-- (private.record_order_revision_v1). The worker read the order at `expected_revision`; if the
-- order changed since (staff edited it meanwhile) the call fails with OF002 and the message is
-- retried on the fresh order, so no update is lost. claim_messages_v5 hands out one message per
-- customer at a time, in received_at order, so the worker's read is never stale between messages
-- of one customer, whatever the number of workers.

alter table public.distributors
  add column order_followup_window_s integer not null default 7200 check (order_followup_window_s between 0 and 604800),
  add column order_confirmation text not null default 'auto' check (order_confirmation in ('auto', 'ask')),
  add column order_cutoff_local time;
comment on column public.distributors.order_followup_window_s is
  'Seconds after the last message that touched an open order during which a plain follow-up joins it (default 2 h)';
comment on column public.distributors.order_cutoff_local is
  'Local time (distributor timezone) after which the day''s orders take no more changes; null: changeable until staff confirm them for dispatch';
comment on column public.distributors.order_confirmation is
  'auto: the reply summarises the order; ask: it also asks the customer to confirm ("sí", "ok", the confirm button)';

alter table public.orders
  add column last_message_at timestamptz,
  add column followups_closed_at timestamptz;
comment on column public.orders.last_message_at is 'received_at of the last customer message that touched the order (the follow-up window starts there)';
comment on column public.orders.followups_closed_at is 'When the customer closed the order ("ya con eso", "that''s all"): later plain messages start a new order';
create index orders_customer_open_idx on public.orders (distributor_id, customer_id, created_at desc)
  where status in ('created', 'needs_review');

-- One message per customer at a time, oldest received first.
create index messages_customer_pending_idx on public.messages (distributor_id, customer_id, received_at)
  where state in ('queued', 'processing');

-- claim_messages_v5: v4 (round-robin across distributors, AI tokens, fields returned, writes by key)
-- where a message is claimable only when no other message of its customer is being processed and
-- none of its customer's queued messages was received before it. It also returns received_at.
create function public.claim_messages_v5(p_worker_id text, p_batch integer, p_lease_seconds integer,
                                         p_per_distributor integer)
returns table (message_id uuid, distributor_id uuid, attempts integer, customer_id uuid, kind text, body text,
               needs_review boolean, review_reasons text[], preferred_language text, received_at timestamptz)
language plpgsql
security definer
set search_path = ''
as $$
declare
  r record;
begin
  for r in
    update public.messages m
       set state = 'failed', locked_by = null, lease_expires_at = null, needs_review = true,
           review_reasons = array_append(m.review_reasons, 'lease_expired'),
           last_error = 'worker lease expired on the last attempt'
     where m.id = any (array(
       select d.id from public.messages d
        where d.state = 'processing' and d.lease_expires_at < now() and d.attempts >= d.max_attempts
        for update skip locked))
    returning m.id, m.distributor_id, m.attempts
  loop
    insert into public.ai_errors (distributor_id, message_id, error_type, error_message, attempt, retryable)
    values (r.distributor_id, r.id, 'lease_expired', 'worker lease expired on the last attempt', r.attempts, false);
    perform private.enqueue_event(r.distributor_id, 'message.failed',
      jsonb_build_object('message_id', r.id, 'reason', 'lease_expired'), r.id, null);
  end loop;

  return query
  with tenants as (
    select d.id,
           coalesce((select greatest(floor((b.tolerance_s - greatest(extract(epoch from b.tat - now())::double precision, 0))
                                           / b.emission_s) + 1, 0)::integer
                       from private.rate_buckets b
                      where b.distributor_id = d.id and b.scope = 'ai' and b.integration_id is null),
                    p_per_distributor) as tokens
      from public.distributors d
  ),
  candidates as (
    select c.id, c.distributor_id, c.available_at, t.tokens
      from tenants t
     cross join lateral (
       select q.id, q.distributor_id, q.available_at from public.messages q
        where q.distributor_id = t.id and q.state = 'queued' and q.available_at <= now()
          and not exists (
            select from public.messages o
             where o.distributor_id = q.distributor_id and o.customer_id = q.customer_id and o.id <> q.id
               and (o.state = 'processing'
                    or (o.state = 'queued' and (o.received_at, o.id) < (q.received_at, q.id))))
        order by q.available_at
        limit p_per_distributor
        for update skip locked) c
     where t.tokens > 0
    union all
    select e.id, e.distributor_id, e.available_at, p_per_distributor from (
      select q.id, q.distributor_id, q.lease_expires_at as available_at from public.messages q
       where q.state = 'processing' and q.lease_expires_at < now() and q.attempts < q.max_attempts
       order by q.lease_expires_at
       limit p_batch
       for update skip locked) e
  ),
  ranked as (
    select c.id, c.available_at, c.tokens,
           row_number() over (partition by c.distributor_id order by c.available_at, c.id) as rn
      from candidates c
  ),
  picked as (
    select k.id from ranked k where k.rn <= k.tokens order by k.rn, k.available_at limit p_batch
  ),
  claimed as (
    update public.messages m
       set state = 'processing', locked_by = p_worker_id, attempts = m.attempts + 1,
           lease_expires_at = now() + make_interval(secs => p_lease_seconds)
     where m.id = any (array(select picked.id from picked))
    returning m.id, m.distributor_id, m.attempts, m.customer_id, m.kind::text as kind, m.body, m.needs_review,
              m.review_reasons, m.received_at
  )
  select c.id, c.distributor_id, c.attempts, c.customer_id, c.kind, c.body, c.needs_review, c.review_reasons,
         (select cu.preferred_language from public.customers cu
           where cu.distributor_id = c.distributor_id and cu.id = c.customer_id),
         c.received_at
    from claimed c;
end
$$;
comment on function public.claim_messages_v5 is
  'Claim due messages round-robin across distributors, one per customer at a time in received_at order';
alter function public.claim_messages_v5(text, integer, integer, integer) set plan_cache_mode = force_generic_plan;
revoke execute on function public.claim_messages_v5 from public, anon, authenticated;
grant execute on function public.claim_messages_v5 to service_role;

-- Write the order lines the worker decided (the whole set, by line_no): lines not in it go,
-- the others are inserted or updated, priced from the catalog; the totals follow.
create function private.write_order_lines(p_distributor_id uuid, p_order_id uuid, p_lines jsonb)
returns void
language plpgsql
set search_path = ''
as $$
declare
  v_subtotal bigint;
begin
  delete from public.order_products op
   where op.distributor_id = p_distributor_id and op.order_id = p_order_id
     and op.line_no not in (select (l ->> 'line_no')::int from jsonb_array_elements(p_lines) l);
  insert into public.order_products as op (distributor_id, order_id, product_id, line_no, customer_text, sku, product_name,
                                           quantity, unit, unit_price_cents, total_cents, confidence, match_method,
                                           review_reason)
  select p_distributor_id, p_order_id, pr.id, (l ->> 'line_no')::int, l ->> 'customer_text', coalesce(pr.sku, l ->> 'sku'),
         pr.name, (l ->> 'quantity')::numeric, coalesce(pr.unit, l ->> 'unit'), coalesce(pr.price_cents, 0),
         round(coalesce(pr.price_cents, 0) * (l ->> 'quantity')::numeric)::bigint,
         round((l ->> 'confidence')::numeric, 3), l ->> 'match_method', l ->> 'review_reason'
    from jsonb_array_elements(p_lines) l
    left join public.products pr on pr.distributor_id = p_distributor_id and pr.sku = l ->> 'sku'
  on conflict (distributor_id, order_id, line_no) do update
    set product_id = excluded.product_id, customer_text = excluded.customer_text, sku = excluded.sku,
        product_name = excluded.product_name, quantity = excluded.quantity, unit = excluded.unit,
        unit_price_cents = excluded.unit_price_cents, total_cents = excluded.total_cents,
        confidence = excluded.confidence, match_method = excluded.match_method, review_reason = excluded.review_reason
    where (op.product_id, op.customer_text, op.sku, op.quantity, op.review_reason)
          is distinct from (excluded.product_id, excluded.customer_text, excluded.sku, excluded.quantity,
                            excluded.review_reason);
  select coalesce(sum(op.total_cents), 0) into v_subtotal from public.order_products op
   where op.distributor_id = p_distributor_id and op.order_id = p_order_id;
  update public.orders o set subtotal_cents = v_subtotal, total_cents = v_subtotal
   where o.distributor_id = p_distributor_id and o.id = p_order_id;
end
$$;

-- v1 with the order part replaced by the conversation's decision, p -> 'conversation':
--   {"action": "create"|"update"|"cancel"|"confirm"|"close"|"none", "order_id", "expected_revision",
--    "status", "review_reasons", "delivery_date", "delivery_text", "lines": [...], "event", "change",
--    "received_at", "message_kind"}
-- and matches pointing at order lines by "order_line_no". Returns the order, its status and revision,
-- the action and how many events (webhook event types, whatever the number of endpoints) it raised.
create function public.record_outcome_v2(p jsonb)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_distributor_id uuid := (p ->> 'distributor_id')::uuid;
  v_message_id uuid := (p ->> 'message_id')::uuid;
  v_msg record;
  v_response_id uuid;
  v_order_id uuid;
  v_order_status public.order_status;
  v_currency text;
  v_calls integer := 0;
  v_cost bigint := 0;
  v_events integer := 0;
  v_created integer := 0;
  v_revision integer;
  v_conv jsonb := p -> 'conversation';
  v_action text := coalesce(p -> 'conversation' ->> 'action', 'none');
  v_received timestamptz;
begin
  update public.messages m
     set state = 'processed', processed_at = now(), locked_by = null, lease_expires_at = null,
         language = p ->> 'language', body_redacted = p ->> 'body_redacted',
         needs_review = coalesce((p ->> 'needs_review')::boolean, false),
         review_reasons = coalesce(array(select jsonb_array_elements_text(p -> 'review_reasons')), '{}')
   where m.id = v_message_id and m.distributor_id = v_distributor_id
     and m.state = 'processing' and m.locked_by = p ->> 'worker_id'
  returning m.conversation_id, m.customer_id, m.received_at into v_msg;
  if not found then
    raise exception 'lease lost for message %', v_message_id using errcode = 'OF001';
  end if;
  v_received := v_msg.received_at;

  insert into public.pii_detection_results (distributor_id, message_id, category, entity_type, start_offset, end_offset, score, recognizer, rule_id)
  select v_distributor_id, v_message_id, f ->> 'category', f ->> 'entity_type', (f ->> 'start')::int, (f ->> 'end')::int,
         round((f ->> 'score')::numeric, 3), f ->> 'recognizer',
         (select r.id from public.pii_detection_rules r where r.distributor_id = v_distributor_id and r.category = f ->> 'category')
    from jsonb_array_elements(coalesce(p -> 'pii', '[]')) f;

  if p -> 'analysis' is not null and jsonb_typeof(p -> 'analysis') = 'object' then
    insert into public.ai_responses (distributor_id, message_id, provider, model, prompt_version, intent, language, output,
                                     confidence, needs_review, latency_ms)
    values (v_distributor_id, v_message_id, p -> 'analysis' ->> 'provider', p -> 'analysis' ->> 'model',
            p -> 'analysis' ->> 'prompt_version', p -> 'analysis' ->> 'intent', p -> 'analysis' ->> 'language',
            p -> 'analysis' -> 'output', round((p -> 'analysis' ->> 'confidence')::numeric, 3),
            (p -> 'analysis' ->> 'needs_review')::boolean, round((p -> 'analysis' ->> 'latency_ms')::numeric)::int)
    returning id into v_response_id;
  end if;

  insert into public.ai_usage_metrics (distributor_id, message_id, ai_response_id, price_id, provider, model, prompt_version,
                                       input_tokens, cached_input_tokens, output_tokens, cost_micro_usd, latency_ms, period)
  select v_distributor_id, v_message_id, v_response_id, (u ->> 'price_id')::uuid, u ->> 'provider', u ->> 'model',
         u ->> 'prompt_version', (u ->> 'input_tokens')::int, (u ->> 'cached_input_tokens')::int,
         (u ->> 'output_tokens')::int, (u ->> 'cost_micro_usd')::bigint, round((u ->> 'latency_ms')::numeric)::int,
         (select date_trunc('month', now() at time zone d.timezone)::date from public.distributors d where d.id = v_distributor_id)
    from jsonb_array_elements(coalesce(p -> 'usage', '[]')) u;
  select count(*), coalesce(sum((u ->> 'cost_micro_usd')::bigint), 0) into v_calls, v_cost
    from jsonb_array_elements(coalesce(p -> 'usage', '[]')) u;

  if v_action = 'create' then
    v_order_status := (v_conv ->> 'status')::public.order_status;
    select d.currency into v_currency from public.distributors d where d.id = v_distributor_id;
    insert into public.orders (distributor_id, customer_id, conversation_id, ai_source_message_id, status, review_reasons,
                               currency, requested_delivery_date, delivery_text, last_message_at, followups_closed_at)
    values (v_distributor_id, v_msg.customer_id, v_msg.conversation_id, v_message_id, v_order_status,
            coalesce(array(select jsonb_array_elements_text(v_conv -> 'review_reasons')), '{}'), v_currency,
            (v_conv ->> 'delivery_date')::date, v_conv ->> 'delivery_text', v_received,
            case when (v_conv ->> 'close')::boolean then v_received end)
    on conflict (distributor_id, ai_source_message_id) where ai_source_message_id is not null do nothing
    returning id into v_order_id;
    if v_order_id is not null then  -- null: this message already made its order
      perform private.write_order_lines(v_distributor_id, v_order_id, v_conv -> 'lines');
      v_created := 1;
      v_revision := private.record_order_revision_v1(v_distributor_id, v_order_id, 'order.created', 'message',
                                                     v_message_id, null, coalesce(v_conv -> 'change', '{}'));
      v_events := v_events + 1;
      if v_order_status = 'needs_review' then  -- as before: review tools listen for it
        perform private.enqueue_event(v_distributor_id, 'order.needs_review',
          private.order_snapshot_v1(v_distributor_id, v_order_id), v_message_id, v_order_id);
        v_events := v_events + 1;
      end if;
    end if;
  elsif v_action in ('update', 'cancel', 'confirm', 'close') then
    v_order_id := (v_conv ->> 'order_id')::uuid;
    -- the order as the worker read it, else someone changed it meanwhile: retry on the fresh order
    perform from public.orders o
     where o.distributor_id = v_distributor_id and o.id = v_order_id and o.customer_id = v_msg.customer_id
       and o.revision = (v_conv ->> 'expected_revision')::int
       for update;
    if not found then
      raise exception 'order % changed while message % was read', v_order_id, v_message_id using errcode = 'OF002';
    end if;
    if v_action = 'update' then
      perform private.write_order_lines(v_distributor_id, v_order_id, v_conv -> 'lines');
      update public.orders o
         set status = (v_conv ->> 'status')::public.order_status,
             review_reasons = coalesce(array(select jsonb_array_elements_text(v_conv -> 'review_reasons')), '{}'),
             requested_delivery_date = coalesce((v_conv ->> 'delivery_date')::date, o.requested_delivery_date),
             delivery_text = coalesce(v_conv ->> 'delivery_text', o.delivery_text),
             last_message_at = greatest(o.last_message_at, v_received),
             followups_closed_at = case when (v_conv ->> 'close')::boolean then v_received end
       where o.distributor_id = v_distributor_id and o.id = v_order_id
      returning o.status into v_order_status;
      v_revision := private.record_order_revision_v1(v_distributor_id, v_order_id, 'order.updated', 'message',
                                                     v_message_id, null, coalesce(v_conv -> 'change', '{}'));
      v_events := v_events + 1;
    elsif v_action = 'cancel' then
      update public.orders o set status = 'cancelled', last_message_at = greatest(o.last_message_at, v_received)
       where o.distributor_id = v_distributor_id and o.id = v_order_id
      returning o.status into v_order_status;
      v_revision := private.record_order_revision_v1(v_distributor_id, v_order_id, 'order.cancelled', 'message',
                                                     v_message_id, null, coalesce(v_conv -> 'change', '{}'));
      v_events := v_events + 1;
    elsif v_action = 'confirm' then
      update public.orders o
         set customer_confirmed_at = v_received, customer_confirmed_message_id = v_message_id,
             last_message_at = greatest(o.last_message_at, v_received)
       where o.distributor_id = v_distributor_id and o.id = v_order_id
      returning o.status into v_order_status;
      v_revision := private.record_order_revision_v1(v_distributor_id, v_order_id, 'order.confirmed', 'message',
                                                     v_message_id, null, coalesce(v_conv -> 'change', '{}'));
      v_events := v_events + 1;
    else  -- close: the follow-up window ends; not a change of the order, so no revision
      update public.orders o set followups_closed_at = v_received
       where o.distributor_id = v_distributor_id and o.id = v_order_id
      returning o.status into v_order_status;
    end if;
  end if;

  insert into public.product_matching_history (distributor_id, message_id, order_product_id, chosen_product_id, query_text,
                                               candidates, score, method, accepted)
  select v_distributor_id, v_message_id,
         (select op.id from public.order_products op where op.distributor_id = v_distributor_id and op.order_id = v_order_id
             and op.line_no = (mh ->> 'order_line_no')::int),
         (select pr.id from public.products pr where pr.distributor_id = v_distributor_id and pr.sku = mh ->> 'chosen_sku'),
         mh ->> 'query_text', coalesce(mh -> 'candidates', '[]'), round((mh ->> 'score')::numeric, 3), mh ->> 'method',
         (mh ->> 'accepted')::boolean
    from jsonb_array_elements(coalesce(p -> 'matches', '[]')) mh;

  if nullif(p ->> 'reply', '') is not null then
    insert into public.messages (distributor_id, conversation_id, customer_id, direction, channel, kind, body, language, state)
    select v_distributor_id, v_msg.conversation_id, v_msg.customer_id, 'outbound', c.channel, 'text', p ->> 'reply',
           p ->> 'language', 'outbound'
      from public.conversations c where c.id = v_msg.conversation_id;
  end if;

  perform private.record_budget_usage(v_distributor_id, v_calls, v_cost, v_created);

  return jsonb_build_object('order_id', v_order_id, 'order_status', v_order_status, 'events', v_events,
                            'ai_response_id', v_response_id, 'revision', v_revision, 'action', v_action);
end
$$;
comment on function public.record_outcome_v2(jsonb) is
  'Everything one message produced, with what it did to the customer''s orders (create, update, cancel, confirm, close) as a revision';

revoke execute on function private.write_order_lines(uuid, uuid, jsonb) from public;
grant execute on function private.write_order_lines(uuid, uuid, jsonb) to service_role;
revoke execute on function public.record_outcome_v2(jsonb) from public, anon, authenticated;
grant execute on function public.record_outcome_v2(jsonb) to service_role;
