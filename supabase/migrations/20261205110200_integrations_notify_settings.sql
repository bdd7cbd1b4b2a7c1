-- WhatsApp numbers, NOTIFY payloads and tenant settings (issue 14, findings 4, 10 and 11).
--
-- 4. Channel integrations are created and changed by the service only, after it proved the
--    number (`orderflow integrations add whatsapp` asks the Graph API whether the access token
--    sees the phone_number_id). A tenant's admins read their integrations (never the secrets)
--    and may disable one; they may not insert, re-point or re-enable one, so a unique-violation
--    no longer tells them which numbers are registered either.
-- 10. NOTIFY payloads carry nothing tenant-identifying: any session may LISTEN. The workers only
--    need the wake-up. (private.enqueue_event keeps its contract and its name: it is replaced
--    here with the payload as its only change, since every caller, versioned or not, must stop
--    sending distributor ids; the intake's NOTIFY moves to ingest_message_v3.)
-- 11. distributors.timezone must be an IANA zone PostgreSQL knows, currency an ISO 4217 code
--    and locale a language tag of a language orderflow speaks; refresh_rollups_v2 refreshes one
--    distributor per call, so the worker refreshes each in its own transaction and one tenant's
--    failure leaves the others' roll-ups fresh.

-- 4.
drop policy "admin and above add rows to their distributor" on public.external_integrations;
revoke insert, update on public.external_integrations from anon, authenticated;
grant update (enabled) on public.external_integrations to authenticated;

create function private.check_client_integration_change() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if current_user in ('anon', 'authenticated') and new.enabled and not old.enabled then
    raise exception 'only the service enables a channel integration' using errcode = 'insufficient_privilege';
  end if;
  return new;
end
$$;
revoke execute on function private.check_client_integration_change from public;
create trigger check_client_integration_change before update on public.external_integrations
  for each row execute function private.check_client_integration_change();

-- 10.
create or replace function private.enqueue_event(
  p_distributor_id uuid,
  p_event_type text,
  p_data jsonb,
  p_message_id uuid,
  p_order_id uuid
) returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_event_id text := 'msg_' || replace(gen_random_uuid()::text, '-', '');
  v_payload bytea := convert_to(
    jsonb_build_object('type', p_event_type, 'timestamp', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                       'data', p_data || jsonb_build_object('distributor_id', p_distributor_id))::text, 'UTF8');
  v_count integer;
begin
  insert into public.webhook_deliveries (distributor_id, endpoint_id, event_id, event_type, payload, message_id, order_id)
  select e.distributor_id, e.id, v_event_id, p_event_type, v_payload, p_message_id, p_order_id
    from public.webhook_endpoints e
   where e.distributor_id = p_distributor_id and e.enabled
     and (cardinality(e.event_types) = 0 or p_event_type = any (e.event_types));
  get diagnostics v_count = row_count;
  if v_count > 0 then
    perform pg_notify('orderflow_deliveries', '');
  end if;
  return v_count;
end
$$;

-- 11. Settings a tenant's admin writes.
create function private.check_distributor_settings() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if not exists (select from pg_catalog.pg_timezone_names z where z.name = new.timezone) then
    raise exception 'unknown time zone "%"', new.timezone
      using errcode = 'invalid_parameter_value', constraint = 'distributors_timezone_known';
  end if;
  return new;
end
$$;
revoke execute on function private.check_distributor_settings from public;
create trigger check_distributor_settings before insert or update of timezone on public.distributors
  for each row execute function private.check_distributor_settings();

alter table public.distributors
  add constraint distributors_currency_iso check (currency ~ '^[A-Z]{3}$'),
  add constraint distributors_locale_supported check (locale ~ '^(es|en|pt)(-[A-Z]{2})?$');
comment on column public.distributors.currency is 'ISO 4217 code (three capitals)';
comment on column public.distributors.locale is 'Language tag of a language orderflow speaks: es, en or pt, with an optional region (es-MX)';

-- Recompute one distributor's roll-ups since a date (refresh_rollups_v1 for a single tenant).
create function public.refresh_rollups_v2(p_since date, p_distributor_id uuid)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_model integer;
  v_prompt integer;
  v_removed integer;
  v_usage integer;
begin
  -- One refresh at a time: two would upsert the same rows in different orders and could deadlock.
  perform pg_advisory_xact_lock(7344119002);
  with days as (
    select d.id as distributor_id, g::date as day, d.timezone
      from public.distributors d
     cross join generate_series(p_since::timestamp, (now() at time zone d.timezone)::date::timestamp, interval '1 day') g
     where d.id = p_distributor_id
    union
    select r.distributor_id, (r.created_at at time zone d.timezone)::date, d.timezone
      from public.ai_training_data t
      join public.ai_responses r on r.distributor_id = t.distributor_id and r.id = t.ai_response_id
      join public.distributors d on d.id = t.distributor_id
     where t.distributor_id = p_distributor_id and t.created_at >= p_since::timestamp at time zone 'UTC' - interval '1 day'
       and (t.created_at at time zone d.timezone)::date >= p_since
  ), windows as (
    select dd.distributor_id, dd.day, dd.day::timestamp at time zone dd.timezone as starts,
           (dd.day + 1)::timestamp at time zone dd.timezone as ends
      from days dd
  ), calls as (
    select w.distributor_id, w.day, u.provider, u.model, coalesce(u.prompt_version, r.prompt_version, 'unknown') as prompt_version,
           count(*) as calls, sum(u.latency_ms) as latency_sum, count(u.latency_ms) as latency_n,
           sum(u.cost_micro_usd) as cost
      from windows w
      join public.ai_usage_metrics u on u.distributor_id = w.distributor_id and u.occurred_at >= w.starts and u.occurred_at < w.ends
      left join public.ai_responses r on r.distributor_id = u.distributor_id and r.id = u.ai_response_id
     group by 1, 2, 3, 4, 5
  ), reviews as (
    select w.distributor_id, w.day, r.provider, r.model, r.prompt_version,
           count(*) as reviewed, count(*) filter (where l.unchanged) as correct
      from windows w
      join public.ai_responses r on r.distributor_id = w.distributor_id and r.created_at >= w.starts and r.created_at < w.ends
      join lateral (
        select t.order_product_id, bool_and(t.correction_type = 'confirmed') as unchanged
          from public.ai_training_data t
         where t.distributor_id = r.distributor_id and t.ai_response_id = r.id and t.order_product_id is not null
         group by t.order_product_id) l on true
     group by 1, 2, 3, 4, 5
  ), base as (
    select distributor_id, day, provider, model, prompt_version,
           coalesce(c.calls, 0) as calls, coalesce(c.latency_sum, 0) as latency_sum, coalesce(c.latency_n, 0) as latency_n,
           coalesce(c.cost, 0) as cost, coalesce(v.reviewed, 0) as reviewed, coalesce(v.correct, 0) as correct
      from calls c full join reviews v using (distributor_id, day, provider, model, prompt_version)
  ), by_model as (
    select distributor_id, day, provider, model, sum(calls)::integer as calls, sum(reviewed)::integer as reviewed,
           sum(correct)::integer as correct,
           round(sum(latency_sum)::numeric / nullif(sum(latency_n), 0), 1) as avg_latency_ms, sum(cost)::bigint as cost
      from base group by 1, 2, 3, 4
  ), by_prompt as (
    select distributor_id, day, prompt_version, model, sum(calls)::integer as calls, sum(reviewed)::integer as reviewed,
           sum(correct)::integer as correct,
           round(sum(latency_sum)::numeric / nullif(sum(latency_n), 0), 1) as avg_latency_ms, sum(cost)::bigint as cost
      from base group by 1, 2, 3, 4
  ), model_rows as (
    insert into public.ai_model_performance as t (distributor_id, day, provider, model, calls, reviewed, correct,
                                                  avg_latency_ms, cost_micro_usd)
    select distributor_id, day, provider, model, calls, reviewed, correct, avg_latency_ms, cost from by_model
    on conflict (distributor_id, day, provider, model) do update
      set calls = excluded.calls, reviewed = excluded.reviewed, correct = excluded.correct,
          avg_latency_ms = excluded.avg_latency_ms, cost_micro_usd = excluded.cost_micro_usd
      where (t.calls, t.reviewed, t.correct, t.avg_latency_ms, t.cost_micro_usd)
            is distinct from (excluded.calls, excluded.reviewed, excluded.correct, excluded.avg_latency_ms, excluded.cost_micro_usd)
    returning 1
  ), prompt_rows as (
    insert into public.ai_prompt_performance as t (distributor_id, day, prompt_version, model, calls, reviewed, correct,
                                                   avg_latency_ms, cost_micro_usd)
    select distributor_id, day, prompt_version, model, calls, reviewed, correct, avg_latency_ms, cost from by_prompt
    on conflict (distributor_id, day, prompt_version, model) do update
      set calls = excluded.calls, reviewed = excluded.reviewed, correct = excluded.correct,
          avg_latency_ms = excluded.avg_latency_ms, cost_micro_usd = excluded.cost_micro_usd
      where (t.calls, t.reviewed, t.correct, t.avg_latency_ms, t.cost_micro_usd)
            is distinct from (excluded.calls, excluded.reviewed, excluded.correct, excluded.avg_latency_ms, excluded.cost_micro_usd)
    returning 1
  ), stale_models as (
    delete from public.ai_model_performance t using days dd
     where t.distributor_id = dd.distributor_id and t.day = dd.day
       and not exists (select from by_model m where m.distributor_id = t.distributor_id and m.day = t.day
                                                and m.provider = t.provider and m.model = t.model)
    returning 1
  ), stale_prompts as (
    delete from public.ai_prompt_performance t using days dd
     where t.distributor_id = dd.distributor_id and t.day = dd.day
       and not exists (select from by_prompt m where m.distributor_id = t.distributor_id and m.day = t.day
                                                 and m.prompt_version = t.prompt_version and m.model = t.model)
    returning 1
  )
  select (select count(*) from model_rows), (select count(*) from prompt_rows),
         (select count(*) from stale_models) + (select count(*) from stale_prompts)
    into v_model, v_prompt, v_removed;

  -- Usage rows record_outcome_v1 is incrementing right now are waited for, so the counts below
  -- include them; increments that come after this lock add to the recomputed numbers.
  perform 1 from public.distributor_usage u
   where u.distributor_id = p_distributor_id and u.period >= date_trunc('month', p_since)::date order by u.id for update;
  with months as (
    select d.id as distributor_id, m::date as period,
           m at time zone d.timezone as starts, (m + interval '1 month') at time zone d.timezone as ends
      from public.distributors d
     cross join generate_series(date_trunc('month', p_since::timestamp), date_trunc('month', now() at time zone d.timezone),
                                interval '1 month') m
     where d.id = p_distributor_id
  ), fresh as (
    select m.distributor_id, m.period,
           (select count(*) from public.messages x
             where x.distributor_id = m.distributor_id and x.processed_at >= m.starts and x.processed_at < m.ends
               and x.direction = 'inbound')::integer as messages,
           (select count(*) from public.orders o
             where o.distributor_id = m.distributor_id and o.created_at >= m.starts and o.created_at < m.ends
               and o.ai_source_message_id is not null)::integer as orders,
           (select count(*) from public.ai_usage_metrics u
             where u.distributor_id = m.distributor_id and u.period = m.period)::integer as ai_calls,
           (select coalesce(sum(u.cost_micro_usd), 0) from public.ai_usage_metrics u
             where u.distributor_id = m.distributor_id and u.period = m.period)::bigint as ai_cost_micro_usd
      from months m
  ), usage_rows as (
    insert into public.distributor_usage as t (distributor_id, period, messages, orders, ai_calls, ai_cost_micro_usd)
    select f.distributor_id, f.period, f.messages, f.orders, f.ai_calls, f.ai_cost_micro_usd
      from fresh f
     where f.messages > 0 or f.orders > 0 or f.ai_calls > 0 or f.ai_cost_micro_usd > 0
        or exists (select from public.distributor_usage u where u.distributor_id = f.distributor_id and u.period = f.period)
    on conflict (distributor_id, period) do update
      set messages = excluded.messages, orders = excluded.orders, ai_calls = excluded.ai_calls,
          ai_cost_micro_usd = excluded.ai_cost_micro_usd
      where (t.messages, t.orders, t.ai_calls, t.ai_cost_micro_usd)
            is distinct from (excluded.messages, excluded.orders, excluded.ai_calls, excluded.ai_cost_micro_usd)
    returning 1
  )
  select count(*) into v_usage from usage_rows;

  return jsonb_build_object('model_rows', v_model, 'prompt_rows', v_prompt, 'removed', v_removed, 'usage_rows', v_usage);
end
$$;
comment on function public.refresh_rollups_v2(date, uuid) is
  'Recompute one distributor''s AI performance roll-ups (per day) and distributor_usage (per month) since a date; idempotent';
revoke execute on function public.refresh_rollups_v2(date, uuid) from public, anon, authenticated;
grant execute on function public.refresh_rollups_v2(date, uuid) to service_role;
