-- claim_messages_v4: the v3 claim (round-robin across distributors, AI tokens respected, message
-- fields returned) with every write addressed by primary key.
--
-- v2/v3 run as plpgsql, whose statements switch to a generic plan after five calls. In the generic
-- plan p_batch is unknown, the planner expects ~1,000 picked rows and joins them to messages with
-- a hash join over a sequential scan of the whole table: the cost of every claim grew with the
-- number of messages ever received (2.5 ms per claim of 1 at 10,000 rows, measured; linear
-- beyond). Here the ids to update are collected first (`= any(array(...))`), which plans as a
-- primary-key index scan whatever the parameters, and the customer's language is read by key too.
-- v1 to v3 stay for workers still running an older version (STYLE: drop them later).

create function public.claim_messages_v4(p_worker_id text, p_batch integer, p_lease_seconds integer,
                                         p_per_distributor integer)
returns table (message_id uuid, distributor_id uuid, attempts integer, customer_id uuid, kind text, body text,
               needs_review boolean, review_reasons text[], preferred_language text)
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
              m.review_reasons
  )
  select c.id, c.distributor_id, c.attempts, c.customer_id, c.kind, c.body, c.needs_review, c.review_reasons,
         (select cu.preferred_language from public.customers cu
           where cu.distributor_id = c.distributor_id and cu.id = c.customer_id)
    from claimed c;
end
$$;
comment on function public.claim_messages_v4 is
  'Claim due messages round-robin across distributors, holding back those without AI tokens; returns what the pipeline reads';

revoke execute on function public.claim_messages_v4 from public, anon, authenticated;
grant execute on function public.claim_messages_v4 to service_role;
