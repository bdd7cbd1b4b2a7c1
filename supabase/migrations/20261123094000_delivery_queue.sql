-- Delivery queue: the outbound webhook worker's side of public.webhook_deliveries (the outbox
-- private.enqueue_event writes). Claim due deliveries under a lease while respecting each
-- endpoint's max_concurrency; record a whole batch of attempt results in one call (success,
-- retry, dead, 410 Gone disables the endpoint, an endpoint failing for too long is disabled and
-- an endpoint.disabled event goes to the distributor's other endpoints); replay dead deliveries.
-- Nothing here deletes a delivery.
--
-- Leases: a claimed row has locked_until = now() + lease and locked_by = the worker. The worker
-- bounds each attempt (HTTP timeout 15 s) well under the lease (60 s), so there is no heartbeat;
-- rows of a worker that died are claimed again once their lease expired (at-least-once: the
-- receiver deduplicates on webhook-id). finish_deliveries_v1 only touches rows still locked by the
-- calling worker, so a late result of a worker whose lease was taken over is ignored.

alter table public.webhook_deliveries add column locked_by text;
comment on column public.webhook_deliveries.locked_by is
  'The delivery worker holding the lease (until locked_until); null when the row is not claimed';
comment on column public.webhook_deliveries.attempts is 'Attempts made (a replay resets it to 0)';

-- Due work per endpoint in order, and the rows each endpoint has in flight (max_concurrency).
create index webhook_deliveries_endpoint_due_idx on public.webhook_deliveries (endpoint_id, next_attempt_at)
  where state = 'pending';
create index webhook_deliveries_endpoint_locked_idx on public.webhook_deliveries (endpoint_id, locked_until)
  where locked_until is not null;
-- Replays by time range.
create index webhook_deliveries_replayable_idx on public.webhook_deliveries (created_at)
  where state in ('dead', 'failed');

-- Claim up to p_batch due deliveries (pending, next_attempt_at reached, not leased) of enabled
-- endpoints, at most max_concurrency leased rows per endpoint. Endpoints with the oldest due work
-- go first. Locking the endpoint rows (NO KEY UPDATE: the outbox's foreign-key checks still pass)
-- serialises concurrent claimers per endpoint, so two of them cannot both fill its free slots.
-- Returns what an attempt needs: the URL, the active secrets newest first (the previous one while
-- it has not expired), the event id (webhook-id) and the frozen payload bytes.
create function public.claim_deliveries_v1(p_worker_id text, p_batch integer, p_lease_seconds integer)
returns table (delivery_id uuid, distributor_id uuid, endpoint_id uuid, url text, secrets text[], event_id text,
               event_type text, payload bytea, attempts integer)
language sql
set search_path = ''
as $$
  with endpoints as (
    select e.id, e.url, e.secret, e.previous_secret, e.previous_secret_expires_at, e.max_concurrency
      from public.webhook_endpoints e
     where e.enabled
       and exists (select from public.webhook_deliveries d
                    where d.endpoint_id = e.id and d.state = 'pending' and d.next_attempt_at <= now()
                      and (d.locked_until is null or d.locked_until < now()))
     order by (select min(d.next_attempt_at) from public.webhook_deliveries d
                where d.endpoint_id = e.id and d.state = 'pending')
     for no key update of e skip locked
  ),
  picked as (
    select d.id, e.url, e.secret, e.previous_secret, e.previous_secret_expires_at
      from endpoints e
      cross join lateral (
        select q.id from public.webhook_deliveries q
         where q.endpoint_id = e.id and q.state = 'pending' and q.next_attempt_at <= now()
           and (q.locked_until is null or q.locked_until < now())
         order by q.next_attempt_at
         limit greatest(0, e.max_concurrency - (
           select count(*) from public.webhook_deliveries f
            where f.endpoint_id = e.id and f.locked_until >= now() and f.state = 'pending'))
         for update of q skip locked
      ) d
     limit p_batch
  )
  update public.webhook_deliveries w
     set locked_until = now() + make_interval(secs => p_lease_seconds), locked_by = p_worker_id
    from picked p
   where w.id = p.id
  returning w.id, w.distributor_id, w.endpoint_id, p.url,
            array_remove(array[p.secret, case when p.previous_secret_expires_at > now() then p.previous_secret end], null),
            w.event_id, w.event_type, w.payload, w.attempts
$$;
comment on function public.claim_deliveries_v1 is
  'Lease due webhook deliveries (FOR UPDATE SKIP LOCKED), at most max_concurrency in flight per endpoint';

-- Disable one endpoint (410 Gone, or failing for too long): it stops receiving, its pending
-- deliveries fail (replayable), the audit trigger logs webhook_endpoint_disabled, and an
-- endpoint.disabled event goes to the distributor's other endpoints (this one is disabled first,
-- so it does not get its own event). Returns false when it was already disabled. Security definer:
-- the service role may call it (through finish_deliveries_v1) but not private.enqueue_event itself.
create function private.disable_webhook_endpoint(p_endpoint_id uuid, p_reason text, p_detail text)
returns boolean
language plpgsql security definer
set search_path = ''
as $$
declare
  e record;
begin
  update public.webhook_endpoints w
     set enabled = false, disabled_at = now(), disabled_reason = p_reason || ': ' || p_detail
   where w.id = p_endpoint_id and w.enabled
  returning w.id, w.distributor_id, w.url, w.failing_since, w.last_success_at into e;
  if not found then
    return false;
  end if;
  update public.webhook_deliveries d
     set state = 'failed', locked_until = null, locked_by = null, last_error = 'endpoint_disabled: ' || p_reason
   where d.distributor_id = e.distributor_id and d.endpoint_id = e.id and d.state = 'pending';
  perform private.enqueue_event(e.distributor_id, 'endpoint.disabled',
    jsonb_build_object('endpoint_id', e.id, 'url', e.url, 'reason', p_reason, 'detail', p_detail,
                       'failing_since', e.failing_since, 'last_success_at', e.last_success_at), null, null);
  return true;
end
$$;

-- Record a batch of attempt results, one object per claimed delivery:
--   {"id": uuid, "outcome": "succeeded" | "retry" | "dead" | "failed" | "gone" | "release",
--    "status_code": int | null, "error": text | null, "snippet": text | null, "delay": seconds (retry)}
-- retry: pending again at now() + delay; dead: attempts exhausted; failed: refused target (SSRF
-- guard); gone: the endpoint answered 410 and is disabled; release: not attempted (shutdown),
-- the attempt is not counted. Rows no longer leased by p_worker_id are skipped. Endpoints: a
-- success sets last_success_at (at most once a minute, the audit trail records every endpoint
-- update) and clears failing_since; a failure sets failing_since if unset; an endpoint failing
-- since longer than p_failing_window_seconds is disabled. Returns how many deliveries were
-- recorded and the endpoints disabled by this call.
create function public.finish_deliveries_v1(
  p_worker_id text,
  p_results jsonb,
  p_failing_window_seconds double precision default 432000
) returns table (finished integer, disabled_endpoints uuid[])
language plpgsql
set search_path = ''
as $$
declare
  v_finished integer;
  v_ok uuid[];
  v_failing uuid[];
  v_gone uuid[];
  v_stale uuid[];
  v_disabled uuid[] := '{}';
  v_id uuid;
begin
  with results as (
    select x.id, x.outcome, x.status_code, left(x.error, 1000) as error, left(x.snippet, 500) as snippet, x.delay
      from jsonb_to_recordset(p_results) as x(id uuid, outcome text, status_code integer, error text, snippet text,
                                               delay double precision)
  ), updated as (
    update public.webhook_deliveries w
       set state = case r.outcome when 'succeeded' then 'succeeded' when 'dead' then 'dead'
                                  when 'failed' then 'failed' when 'gone' then 'failed'
                                  else 'pending' end::public.delivery_state,
           attempts = w.attempts + case when r.outcome = 'release' then 0 else 1 end,
           next_attempt_at = case when r.outcome = 'retry' then now() + make_interval(secs => greatest(coalesce(r.delay, 0), 0))
                                  else w.next_attempt_at end,
           locked_until = null,
           locked_by = null,
           last_status_code = case when r.outcome = 'release' then w.last_status_code else r.status_code end,
           last_error = case when r.outcome = 'release' then w.last_error else r.error end,
           response_snippet = case when r.outcome = 'release' then w.response_snippet else r.snippet end,
           delivered_at = case when r.outcome = 'succeeded' then now() else w.delivered_at end
      from results r
     where w.id = r.id and w.state = 'pending' and w.locked_by = p_worker_id
       and r.outcome in ('succeeded', 'retry', 'dead', 'failed', 'gone', 'release')
    returning w.endpoint_id, r.outcome
  )
  select count(*)::integer,
         coalesce(array_agg(distinct u.endpoint_id) filter (where u.outcome = 'succeeded'), '{}'),
         coalesce(array_agg(distinct u.endpoint_id) filter (where u.outcome in ('retry', 'dead', 'failed')), '{}'),
         coalesce(array_agg(distinct u.endpoint_id) filter (where u.outcome = 'gone'), '{}')
    into v_finished, v_ok, v_failing, v_gone
    from updated u;

  update public.webhook_endpoints e
     set last_success_at = now(), failing_since = null
   where e.id = any (v_ok)
     and (e.failing_since is not null or e.last_success_at is null or e.last_success_at < now() - interval '1 minute');

  v_failing := array(select f from unnest(v_failing) f where f <> all (v_ok));
  update public.webhook_endpoints e
     set failing_since = now()
   where e.id = any (v_failing) and e.failing_since is null;

  foreach v_id in array v_gone loop
    if private.disable_webhook_endpoint(v_id, 'gone', 'the endpoint answered 410 Gone') then
      v_disabled := v_disabled || v_id;
    end if;
  end loop;

  v_stale := array(select e.id from public.webhook_endpoints e
                    where e.id = any (v_failing) and e.enabled
                      and e.failing_since < now() - make_interval(secs => p_failing_window_seconds));
  foreach v_id in array v_stale loop
    if private.disable_webhook_endpoint(v_id, 'failing',
         format('no successful delivery for %s seconds', round(p_failing_window_seconds::numeric))) then
      v_disabled := v_disabled || v_id;
    end if;
  end loop;

  return query select v_finished, v_disabled;
end
$$;
comment on function public.finish_deliveries_v1 is
  'Record a batch of webhook attempt results; updates endpoint health and disables gone or long-failing endpoints';

-- Replay: one delivery by id (any finished state), or the dead and failed deliveries created in
-- [p_since, p_until), optionally of one endpoint or one distributor. They become pending with
-- attempts 0, due now; the event id (webhook-id) and payload stay the same. Deliveries of a
-- disabled endpoint wait until it is enabled again. Returns how many were queued.
create function public.replay_deliveries_v1(
  p_delivery_id uuid default null,
  p_since timestamptz default null,
  p_until timestamptz default null,
  p_endpoint_id uuid default null,
  p_distributor_id uuid default null
) returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_count integer;
begin
  if p_delivery_id is null and (p_since is null or p_until is null) then
    raise exception 'replay needs a delivery id or a time range (since and until)' using errcode = 'invalid_parameter_value';
  end if;
  update public.webhook_deliveries d
     set state = 'pending', attempts = 0, next_attempt_at = now(), locked_until = null, locked_by = null
   where (p_endpoint_id is null or d.endpoint_id = p_endpoint_id)
     and (p_distributor_id is null or d.distributor_id = p_distributor_id)
     and case when p_delivery_id is not null then d.id = p_delivery_id and d.state <> 'pending'
              else d.state in ('dead', 'failed') and d.created_at >= p_since and d.created_at < p_until end;
  get diagnostics v_count = row_count;
  if v_count > 0 then
    perform pg_notify('orderflow_deliveries', 'replay');
  end if;
  return v_count;
end
$$;
comment on function public.replay_deliveries_v1 is 'Queue finished webhook deliveries again (by id, or dead/failed ones in a time range)';

revoke execute on function public.claim_deliveries_v1, public.finish_deliveries_v1, public.replay_deliveries_v1
  from public, anon, authenticated;
grant execute on function public.claim_deliveries_v1, public.finish_deliveries_v1, public.replay_deliveries_v1
  to service_role;
revoke execute on function private.disable_webhook_endpoint from public, anon, authenticated;
grant execute on function private.disable_webhook_endpoint to service_role;
