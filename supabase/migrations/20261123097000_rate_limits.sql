-- Rate limits (public.api_rate_limits) enforced: inbound requests per distributor at the intake,
-- AI analyzer calls per distributor in the worker, and a fair claim so one tenant's flood cannot
-- starve the others.
--
-- A limit is a token bucket kept as GCRA state (one timestamp per bucket, "theoretical arrival
-- time"): requests_per_minute sets the emission interval T = 60 / rpm seconds, and
-- greatest(burst, 1) requests may arrive at once (tolerance tau = (capacity - 1) * T). A request
-- is allowed when tat - now() <= tau, and then moves tat to greatest(tat, now()) + T. One
-- INSERT ... ON CONFLICT DO UPDATE per request, shared by every intake and worker process.

comment on column public.api_rate_limits.integration_id is 'The integration this limit is for; null: every integration of the distributor without its own row (ai limits use null)';
comment on column public.api_rate_limits.requests_per_minute is 'Steady rate: requests (inbound) or analyzer calls (ai) per minute';
comment on column public.api_rate_limits.burst is 'Requests that may arrive at once (0 counts as 1); requests_per_minute refills them';

create table private.rate_buckets (
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  scope text not null check (scope in ('inbound', 'ai')),
  integration_id uuid,
  tat timestamptz not null,
  emission_s double precision not null check (emission_s > 0),
  tolerance_s double precision not null check (tolerance_s >= 0),
  unique nulls not distinct (distributor_id, scope, integration_id)
);
comment on table private.rate_buckets is 'Token buckets of api_rate_limits (GCRA state); internal, written by take_rate_token_v1';
comment on column private.rate_buckets.integration_id is 'The integration whose own limit row applies; null: the distributor-wide (or default) limit';
comment on column private.rate_buckets.tat is 'Theoretical arrival time: a request is allowed when tat - now() <= tolerance_s';
comment on column private.rate_buckets.emission_s is 'Seconds per request at the steady rate (60 / requests_per_minute), as of the last request';
comment on column private.rate_buckets.tolerance_s is 'Burst tolerance in seconds ((capacity - 1) * emission_s), as of the last request';

-- The fair claim walks the distributors and takes each one's oldest due messages.
create index messages_distributor_queue_idx on public.messages (distributor_id, available_at) where state = 'queued';

-- Take one token from the distributor's bucket of `p_scope`: the integration's own limit row,
-- else the distributor-wide row (integration_id null), else the defaults given (a null
-- p_default_rpm means unlimited: allowed, nothing written). retry_after: seconds until a token is
-- available (0 when allowed).
create function public.take_rate_token_v1(
  p_distributor_id uuid,
  p_integration_id uuid,
  p_scope text,
  p_default_rpm integer,
  p_default_burst integer
) returns table (allowed boolean, retry_after double precision, limited boolean)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_rpm integer;
  v_burst integer;
  v_key uuid;
  v_emission double precision;
  v_tolerance double precision;
  v_tat timestamptz;
begin
  select l.requests_per_minute, l.burst, l.integration_id into v_rpm, v_burst, v_key
    from public.api_rate_limits l
   where l.distributor_id = p_distributor_id and l.scope = p_scope
     and (l.integration_id = p_integration_id or l.integration_id is null)
   order by l.integration_id nulls last
   limit 1;
  if not found then
    if p_default_rpm is null then
      return query select true, 0::double precision, false;
      return;
    end if;
    v_rpm := p_default_rpm;
    v_burst := coalesce(p_default_burst, 0);
    v_key := null;
  end if;
  v_emission := 60.0 / v_rpm;
  v_tolerance := (greatest(v_burst, 1) - 1) * v_emission;

  insert into private.rate_buckets as b (distributor_id, scope, integration_id, tat, emission_s, tolerance_s)
  values (p_distributor_id, p_scope, v_key, now() + make_interval(secs => v_emission), v_emission, v_tolerance)
  on conflict (distributor_id, scope, integration_id) do update
     set tat = greatest(b.tat, now()) + make_interval(secs => v_emission), emission_s = v_emission, tolerance_s = v_tolerance
   where b.tat <= now() + make_interval(secs => v_tolerance)
  returning b.tat into v_tat;
  if found then
    return query select true, 0::double precision, true;
    return;
  end if;
  select b.tat into v_tat from private.rate_buckets b
   where b.distributor_id = p_distributor_id and b.scope = p_scope and b.integration_id is not distinct from v_key;
  return query select false, greatest(extract(epoch from v_tat - now())::double precision - v_tolerance, 0.001), true;
end
$$;
comment on function public.take_rate_token_v1 is 'Take one token of a distributor''s inbound or ai rate limit; allowed, or seconds until a token is available';

-- Give back claimed messages of a distributor that is over its AI rate: due again after
-- p_seconds, without spending an attempt (the claim counted one).
create function public.defer_messages_v1(p_worker_id text, p_ids uuid[], p_seconds double precision)
returns integer
language sql
set search_path = ''
as $$
  with deferred as (
    update public.messages m
       set state = 'queued', locked_by = null, lease_expires_at = null, attempts = greatest(m.attempts - 1, 0),
           available_at = now() + make_interval(secs => greatest(p_seconds, 0))
     where m.id = any (p_ids) and m.state = 'processing' and m.locked_by = p_worker_id
    returning 1
  )
  select count(*)::integer from deferred
$$;

-- The fair claim: per distributor its oldest due messages (at most p_per_distributor, and no
-- more than the AI tokens its bucket holds now; none while the bucket is empty), interleaved
-- round-robin (every distributor's first, then every second ...) up to p_batch. Expired leases
-- are claimed again as in v1. FOR UPDATE SKIP LOCKED as in v1.
create function public.claim_messages_v2(p_worker_id text, p_batch integer, p_lease_seconds integer,
                                         p_per_distributor integer)
returns table (message_id uuid, distributor_id uuid, attempts integer)
language plpgsql
security definer
set search_path = ''
as $$
declare
  r record;
begin
  -- Expired leases that already used their last attempt: fail them, keep the reason (as v1).
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
  )
  update public.messages m
     set state = 'processing', locked_by = p_worker_id, attempts = m.attempts + 1,
         lease_expires_at = now() + make_interval(secs => p_lease_seconds)
    from picked
   where m.id = picked.id
  returning m.id, m.distributor_id, m.attempts;
end
$$;
comment on function public.claim_messages_v2 is 'Claim due messages round-robin across distributors, holding back those without AI tokens';

revoke execute on function public.take_rate_token_v1, public.defer_messages_v1, public.claim_messages_v2
  from public, anon, authenticated;
grant execute on function public.take_rate_token_v1, public.defer_messages_v1, public.claim_messages_v2 to service_role;
