-- The worker's queue over public.messages: claim with FOR UPDATE SKIP LOCKED under a lease,
-- heartbeat, release on shutdown, retry or fail. A message whose worker died is claimed again
-- only after its lease expired (no blind timeout can run a live job twice); one that keeps
-- killing its workers fails after max_attempts and is kept, visible, in ai_errors.
-- Also the outbox writer every event goes through.

-- Write one outbox row (webhook_deliveries) per enabled endpoint of the distributor subscribed
-- to the event type, all sharing one event id. Returns how many endpoints will get it.
create function private.enqueue_event(
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
    perform pg_notify('orderflow_deliveries', p_distributor_id::text);
  end if;
  return v_count;
end
$$;

create function public.claim_messages_v1(p_worker_id text, p_batch integer, p_lease_seconds integer)
returns table (message_id uuid, distributor_id uuid, attempts integer)
language plpgsql
set search_path = ''
as $$
declare
  r record;
begin
  -- Expired leases that already used their last attempt: fail them, keep the reason.
  for r in
    update public.messages m
       set state = 'failed', locked_by = null, lease_expires_at = null, needs_review = true,
           review_reasons = array_append(m.review_reasons, 'lease_expired'),
           last_error = 'worker lease expired on the last attempt'
     where m.id in (
       select d.id from public.messages d
        where d.state = 'processing' and d.lease_expires_at < now() and d.attempts >= d.max_attempts
        for update skip locked)
    returning m.id, m.distributor_id, m.attempts
  loop
    insert into public.ai_errors (distributor_id, message_id, error_type, error_message, attempt, retryable)
    values (r.distributor_id, r.id, 'lease_expired', 'worker lease expired on the last attempt', r.attempts, false);
    perform private.enqueue_event(r.distributor_id, 'message.failed',
      jsonb_build_object('message_id', r.id, 'reason', 'lease_expired'), r.id, null);
  end loop;

  return query
  with picked as (
    select q.id from public.messages q
     where (q.state = 'queued' and q.available_at <= now())
        or (q.state = 'processing' and q.lease_expires_at < now() and q.attempts < q.max_attempts)
     order by q.available_at
     limit p_batch
     for update skip locked
  )
  update public.messages m
     set state = 'processing', locked_by = p_worker_id, attempts = m.attempts + 1,
         lease_expires_at = now() + make_interval(secs => p_lease_seconds)
    from picked
   where m.id = picked.id
  returning m.id, m.distributor_id, m.attempts;
end
$$;

-- Heartbeat: extend the leases this worker still holds; returns the ids it still owns.
create function public.extend_leases_v1(p_worker_id text, p_ids uuid[], p_lease_seconds integer)
returns setof uuid
language sql
set search_path = ''
as $$
  update public.messages m
     set lease_expires_at = now() + make_interval(secs => p_lease_seconds)
   where m.id = any (p_ids) and m.state = 'processing' and m.locked_by = p_worker_id
  returning m.id
$$;

-- Shutdown: give back messages not started, without spending an attempt.
create function public.release_messages_v1(p_worker_id text, p_ids uuid[])
returns integer
language sql
set search_path = ''
as $$
  with released as (
    update public.messages m
       set state = 'queued', locked_by = null, lease_expires_at = null, attempts = greatest(m.attempts - 1, 0)
     where m.id = any (p_ids) and m.state = 'processing' and m.locked_by = p_worker_id
    returning 1
  )
  select count(*)::integer from released
$$;

-- An attempt failed: record it in ai_errors; queue it again after p_retry_delay_seconds when
-- retryable and attempts remain, else mark it failed (kept, needs review, message.failed event).
create function public.fail_message_v1(
  p_message_id uuid,
  p_worker_id text,
  p_error_type text,
  p_error_message text,
  p_retryable boolean,
  p_retry_delay_seconds double precision
) returns public.message_state
language plpgsql
set search_path = ''
as $$
declare
  m public.messages%rowtype;
begin
  select * into m from public.messages where id = p_message_id and state = 'processing' and locked_by = p_worker_id
    for update;
  if not found then
    return null;  -- lease lost: another worker owns it now
  end if;
  insert into public.ai_errors (distributor_id, message_id, error_type, error_message, attempt, retryable)
  values (m.distributor_id, m.id, p_error_type, left(p_error_message, 2000), m.attempts, p_retryable);
  if p_retryable and m.attempts < m.max_attempts then
    update public.messages
       set state = 'queued', locked_by = null, lease_expires_at = null, last_error = left(p_error_message, 2000),
           available_at = now() + make_interval(secs => p_retry_delay_seconds)
     where id = m.id;
    return 'queued';
  end if;
  update public.messages
     set state = 'failed', locked_by = null, lease_expires_at = null, last_error = left(p_error_message, 2000),
         needs_review = true, review_reasons = array_append(review_reasons, 'failed:' || p_error_type)
   where id = m.id;
  perform private.enqueue_event(m.distributor_id, 'message.failed',
    jsonb_build_object('message_id', m.id, 'reason', p_error_type, 'attempts', m.attempts), m.id, null);
  return 'failed';
end
$$;

revoke execute on function public.claim_messages_v1, public.extend_leases_v1, public.release_messages_v1,
  public.fail_message_v1 from anon, authenticated;
grant execute on function public.claim_messages_v1, public.extend_leases_v1, public.release_messages_v1,
  public.fail_message_v1 to service_role;
revoke execute on function private.enqueue_event from public;
