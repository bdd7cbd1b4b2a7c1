-- Shorter lock on the per-distributor usage row: record_outcome_v1 now bumps distributor_usage
-- (messages, orders, AI calls, cost) in ONE upsert, as its last statement, instead of an upsert
-- early on and an update of the order count later. The row lock that serialises a distributor's
-- concurrent writers (so each budget threshold is crossed exactly once) is then held only until
-- commit. Same inputs and outputs, so the function keeps its name.

drop function private.record_budget_usage(uuid, integer, bigint);

create function private.record_budget_usage(p_distributor_id uuid, p_calls integer, p_cost bigint,
                                             p_orders integer default 0)
returns void
language plpgsql
set search_path = ''
as $$
declare
  v_period date;
  v_after bigint;
  v_before bigint;
  v_budget public.ai_budgets%rowtype;
  v_threshold integer;
  v_alert_id uuid;
begin
  select date_trunc('month', now() at time zone d.timezone)::date into v_period
    from public.distributors d where d.id = p_distributor_id;
  -- The counter row serialises concurrent writers of one distributor: each sees the exact
  -- running total, so a threshold is crossed by exactly one of them.
  insert into public.distributor_usage as u (distributor_id, period, messages, orders, ai_calls, ai_cost_micro_usd)
  values (p_distributor_id, v_period, 1, p_orders, p_calls, p_cost)
  on conflict (distributor_id, period) do update
    set messages = u.messages + 1, orders = u.orders + p_orders, ai_calls = u.ai_calls + p_calls,
        ai_cost_micro_usd = u.ai_cost_micro_usd + p_cost
  returning u.ai_cost_micro_usd into v_after;
  v_before := v_after - p_cost;

  select * into v_budget from public.ai_budgets b where b.distributor_id = p_distributor_id;
  if not found or p_cost = 0 then
    return;
  end if;
  foreach v_threshold in array v_budget.thresholds loop
    if v_before * 100 < v_budget.monthly_budget_micro_usd * v_threshold
       and v_after * 100 >= v_budget.monthly_budget_micro_usd * v_threshold then
      insert into public.ai_budget_alerts (distributor_id, period, threshold_pct, spent_micro_usd, budget_micro_usd, mode)
      values (p_distributor_id, v_period, v_threshold, v_after, v_budget.monthly_budget_micro_usd, v_budget.mode)
      on conflict (distributor_id, period, threshold_pct) do nothing
      returning id into v_alert_id;
      if v_alert_id is not null then
        perform private.enqueue_event(p_distributor_id, 'budget.threshold_reached',
          jsonb_build_object('period', v_period, 'threshold_pct', v_threshold, 'spent_micro_usd', v_after,
                             'budget_micro_usd', v_budget.monthly_budget_micro_usd, 'mode', v_budget.mode), null, null);
      end if;
    end if;
  end loop;
end
$$;

create or replace function public.record_outcome_v1(p jsonb)
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
  v_order jsonb := p -> 'order';
  v_subtotal bigint;
begin
  update public.messages m
     set state = 'processed', processed_at = now(), locked_by = null, lease_expires_at = null,
         language = p ->> 'language', body_redacted = p ->> 'body_redacted',
         needs_review = coalesce((p ->> 'needs_review')::boolean, false),
         review_reasons = coalesce(array(select jsonb_array_elements_text(p -> 'review_reasons')), '{}')
   where m.id = v_message_id and m.distributor_id = v_distributor_id
     and m.state = 'processing' and m.locked_by = p ->> 'worker_id'
  returning m.conversation_id, m.customer_id into v_msg;
  if not found then
    raise exception 'lease lost for message %', v_message_id using errcode = 'OF001';
  end if;

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

  if v_order is not null and jsonb_typeof(v_order) = 'object' then
    v_order_status := (v_order ->> 'status')::public.order_status;
    select d.currency into v_currency from public.distributors d where d.id = v_distributor_id;
    insert into public.orders (distributor_id, customer_id, conversation_id, ai_source_message_id, status, review_reasons,
                               currency, requested_delivery_date, delivery_text)
    values (v_distributor_id, v_msg.customer_id, v_msg.conversation_id, v_message_id, v_order_status,
            coalesce(array(select jsonb_array_elements_text(v_order -> 'review_reasons')), '{}'), v_currency,
            (v_order ->> 'delivery_date')::date, v_order ->> 'delivery_text')
    on conflict (distributor_id, ai_source_message_id) where ai_source_message_id is not null do nothing
    returning id into v_order_id;

    if v_order_id is not null then  -- null: this message already made its order
      insert into public.order_products (distributor_id, order_id, product_id, line_no, customer_text, sku, product_name,
                                         quantity, unit, unit_price_cents, total_cents, confidence, match_method, review_reason)
      select v_distributor_id, v_order_id, pr.id, (l ->> 'line_no')::int, l ->> 'customer_text', pr.sku, pr.name,
             (l ->> 'quantity')::numeric, coalesce(pr.unit, l ->> 'unit'), coalesce(pr.price_cents, 0),
             round(coalesce(pr.price_cents, 0) * (l ->> 'quantity')::numeric)::bigint,
             round((l ->> 'confidence')::numeric, 3), l ->> 'match_method', l ->> 'review_reason'
        from jsonb_array_elements(v_order -> 'lines') l
        left join public.products pr on pr.distributor_id = v_distributor_id and pr.sku = l ->> 'sku';

      select coalesce(sum(op.total_cents), 0) into v_subtotal from public.order_products op
       where op.distributor_id = v_distributor_id and op.order_id = v_order_id;
      update public.orders o set subtotal_cents = v_subtotal, total_cents = v_subtotal where o.id = v_order_id;

      v_events := v_events + private.enqueue_event(v_distributor_id,
        case v_order_status when 'needs_review' then 'order.needs_review' else 'order.created' end,
        private.order_event_data(v_distributor_id, v_order_id), v_message_id, v_order_id);
    end if;
  end if;

  insert into public.product_matching_history (distributor_id, message_id, order_product_id, chosen_product_id, query_text,
                                               candidates, score, method, accepted)
  select v_distributor_id, v_message_id,
         (select op.id from public.order_products op where op.distributor_id = v_distributor_id and op.order_id = v_order_id
             and op.line_no = (mh ->> 'line_no')::int),
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

  -- Last, so the distributor's counter row is locked only until commit: concurrent workers of one
  -- distributor queue on it for the shortest time.
  perform private.record_budget_usage(v_distributor_id, v_calls, v_cost, case when v_order_id is null then 0 else 1 end);

  return jsonb_build_object('order_id', v_order_id, 'order_status', v_order_status, 'events', v_events,
                            'ai_response_id', v_response_id);
end
$$;

revoke execute on function private.record_budget_usage from public;
