-- Retention: how long each distributor keeps personal data, and the function that applies it.
-- A distributor without a policy row for a kind gets the default:
--   message_bodies  90 days, anonymise: messages.body, body_redacted and raw_payload set to null;
--                   the row, its ids and state stay, so orders keep their source message
--   pii_findings    90 days, delete (they hold spans and types, nothing to anonymise)
--   ai_responses   180 days, anonymise: output replaced by '{}'; provider, model, intent,
--                   confidence and latency stay for the performance and cost roll-ups
--   webhook_deliveries, orders: keep (orders and their lines are never touched here)
-- `orderflow retention run` calls apply_retention_v1 batch after batch until a batch comes back
-- short, then logs the counts and a 'retention_applied' security event. Running it again
-- changes nothing: anonymised rows no longer match and deleted ones are gone.

comment on table public.data_retention_policies is
  'Per distributor and kind: keep rows retain_days, then anonymise or delete them (defaults in retention_policies_v1)';
alter table public.data_retention_policies
  add constraint data_retention_policies_action_fits_kind check (
    case data_kind
      when 'message_bodies' then action in ('anonymise', 'keep')
      when 'pii_findings' then action in ('delete', 'keep')
      when 'ai_responses' then action in ('anonymise', 'delete', 'keep')
      else action = 'keep'
    end),
  add constraint data_retention_policies_days_set check (action = 'keep' or retain_days is not null);

-- What a run scans: old rows of one distributor that still hold something to remove.
create index messages_retention_idx on public.messages (distributor_id, received_at)
  where body is not null or body_redacted is not null or raw_payload is not null;
create index pii_detection_results_created_idx on public.pii_detection_results (distributor_id, created_at);
create index ai_responses_created_idx on public.ai_responses (distributor_id, created_at);

-- RPCs.

-- The policy in force for every data kind of one distributor: its own row, else the default.
create function public.retention_policies_v1(p_distributor_id uuid)
returns table (data_kind text, retain_days integer, action text, is_default boolean)
language sql stable
set search_path = ''
as $$
  select k.data_kind,
         case when p.id is null then k.retain_days else p.retain_days end,
         coalesce(p.action, k.action),
         p.id is null
    from (values ('message_bodies', 90, 'anonymise'), ('pii_findings', 90, 'delete'), ('ai_responses', 180, 'anonymise'),
                 ('webhook_deliveries', null, 'keep'), ('orders', null, 'keep')) as k (data_kind, retain_days, action)
    left join public.data_retention_policies p on p.distributor_id = p_distributor_id and p.data_kind = k.data_kind
   order by k.data_kind
$$;

-- Apply one batch of one kind for one distributor; returns the rows changed (0: nothing left).
-- Messages still queued or processing are skipped, and rows locked by others are left for the
-- next run (SKIP LOCKED), so the worker is never blocked.
create function public.apply_retention_v1(p_distributor_id uuid, p_data_kind text, p_batch_size integer)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_policy record;
  v_cutoff timestamptz;
  v_count integer;
begin
  select r.* into v_policy from public.retention_policies_v1(p_distributor_id) r where r.data_kind = p_data_kind;
  if not found then
    raise exception 'unknown data kind %', p_data_kind using errcode = 'invalid_parameter_value';
  end if;
  if v_policy.action = 'keep' then
    return 0;
  end if;
  v_cutoff := now() - make_interval(days => v_policy.retain_days);

  -- The batch is picked once (materialized): as an IN (subquery) the planner may rescan it per
  -- row, and a rescan skips the rows this statement just changed and picks more than the batch.
  if p_data_kind = 'message_bodies' then
    with picked as materialized (
      select q.id from public.messages q
       where q.distributor_id = p_distributor_id and q.received_at < v_cutoff
         and (q.body is not null or q.body_redacted is not null or q.raw_payload is not null)
         and q.state not in ('queued', 'processing')
       order by q.received_at limit p_batch_size for update skip locked)
    update public.messages m set body = null, body_redacted = null, raw_payload = null
      from picked where m.id = picked.id;
  elsif p_data_kind = 'pii_findings' then
    with picked as materialized (
      select q.id from public.pii_detection_results q
       where q.distributor_id = p_distributor_id and q.created_at < v_cutoff
       order by q.created_at limit p_batch_size for update skip locked)
    delete from public.pii_detection_results f using picked where f.id = picked.id;
  elsif p_data_kind = 'ai_responses' and v_policy.action = 'delete' then
    with picked as materialized (
      select q.id from public.ai_responses q
       where q.distributor_id = p_distributor_id and q.created_at < v_cutoff
       order by q.created_at limit p_batch_size for update skip locked)
    delete from public.ai_responses r using picked where r.id = picked.id;
  elsif p_data_kind = 'ai_responses' then
    with picked as materialized (
      select q.id from public.ai_responses q
       where q.distributor_id = p_distributor_id and q.created_at < v_cutoff and q.output <> '{}'::jsonb
       order by q.created_at limit p_batch_size for update skip locked)
    update public.ai_responses r set output = '{}'::jsonb from picked where r.id = picked.id;
  else
    return 0;
  end if;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

-- What apply_retention_v1 would change, all batches together (for --dry-run). Same conditions.
create function public.retention_due_v1(p_distributor_id uuid, p_data_kind text)
returns bigint
language plpgsql stable
set search_path = ''
as $$
declare
  v_policy record;
  v_cutoff timestamptz;
begin
  select r.* into v_policy from public.retention_policies_v1(p_distributor_id) r where r.data_kind = p_data_kind;
  if not found then
    raise exception 'unknown data kind %', p_data_kind using errcode = 'invalid_parameter_value';
  end if;
  if v_policy.action = 'keep' then
    return 0;
  end if;
  v_cutoff := now() - make_interval(days => v_policy.retain_days);
  return case
    when p_data_kind = 'message_bodies' then (
      select count(*) from public.messages q
       where q.distributor_id = p_distributor_id and q.received_at < v_cutoff
         and (q.body is not null or q.body_redacted is not null or q.raw_payload is not null)
         and q.state not in ('queued', 'processing'))
    when p_data_kind = 'pii_findings' then (
      select count(*) from public.pii_detection_results q
       where q.distributor_id = p_distributor_id and q.created_at < v_cutoff)
    when p_data_kind = 'ai_responses' and v_policy.action = 'delete' then (
      select count(*) from public.ai_responses q
       where q.distributor_id = p_distributor_id and q.created_at < v_cutoff)
    when p_data_kind = 'ai_responses' then (
      select count(*) from public.ai_responses q
       where q.distributor_id = p_distributor_id and q.created_at < v_cutoff and q.output <> '{}'::jsonb)
    else 0
  end;
end
$$;

revoke execute on function public.retention_policies_v1, public.apply_retention_v1, public.retention_due_v1
  from public, anon, authenticated;
grant execute on function public.retention_policies_v1, public.apply_retention_v1, public.retention_due_v1
  to service_role;
