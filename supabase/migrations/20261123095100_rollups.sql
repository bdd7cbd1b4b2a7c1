-- Roll-ups the worker refreshes and dashboards read cheaply: per distributor and day (in the
-- distributor's time zone), AI calls, latency and cost per model and per prompt version, with the
-- accuracy staff reviews show (reviewed = lines corrected or confirmed, correct = confirmed
-- without change, counted on the day of the analysis); and per month, messages, orders, AI calls
-- and cost (distributor_usage, which record_outcome_v1 also increments live: a refresh
-- recomputes the same counts from the source rows, so both agree).

comment on column public.ai_model_performance.day is 'Day of the AI call in the distributor''s time zone';
comment on column public.ai_model_performance.reviewed is 'Order lines of that day''s analyses staff corrected or confirmed';
comment on column public.ai_model_performance.correct is 'Of those, lines staff only confirmed (no change)';
comment on column public.ai_prompt_performance.reviewed is 'Order lines of that day''s analyses staff corrected or confirmed';
comment on column public.ai_prompt_performance.correct is 'Of those, lines staff only confirmed (no change)';

-- What a refresh scans: recent AI calls, recent reviews, messages processed in a month.
create index ai_usage_metrics_occurred_idx on public.ai_usage_metrics (distributor_id, occurred_at);
create index ai_training_data_created_idx on public.ai_training_data (created_at);
create index messages_processed_idx on public.messages (distributor_id, processed_at) where processed_at is not null;

-- Recompute every day from p_since to today (and the days of analyses reviewed since p_since)
-- and every month from p_since's to this one, for every distributor. Idempotent: a row changes
-- only when its numbers do, and a row whose source rows are gone is removed (day roll-ups) or
-- zeroed (usage). Returns the rows changed per table. Run it in its own transaction (it locks
-- the usage rows it recomputes until commit).
create function public.refresh_rollups_v1(p_since date)
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
    union
    select r.distributor_id, (r.created_at at time zone d.timezone)::date, d.timezone
      from public.ai_training_data t
      join public.ai_responses r on r.distributor_id = t.distributor_id and r.id = t.ai_response_id
      join public.distributors d on d.id = t.distributor_id
     where t.created_at >= p_since::timestamp at time zone 'UTC' - interval '1 day'
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
  perform 1 from public.distributor_usage u where u.period >= date_trunc('month', p_since)::date order by u.id for update;
  with months as (
    select d.id as distributor_id, m::date as period,
           m at time zone d.timezone as starts, (m + interval '1 month') at time zone d.timezone as ends
      from public.distributors d
     cross join generate_series(date_trunc('month', p_since::timestamp), date_trunc('month', now() at time zone d.timezone),
                                interval '1 month') m
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
comment on function public.refresh_rollups_v1(date) is
  'Recompute the AI performance roll-ups (per day) and distributor_usage (per month) since a date; idempotent';

revoke execute on function public.refresh_rollups_v1(date) from public, anon, authenticated;
grant execute on function public.refresh_rollups_v1(date) to service_role;
