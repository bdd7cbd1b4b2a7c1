-- Fair delivery claims (issue 14, finding 13): one tenant with many slow endpoints must not
-- starve the others' deliveries.
--
-- claim_deliveries_v2 serves distributors round-robin, as the message claim does: due endpoints
-- are ranked within their distributor (oldest due delivery first) and taken rank by rank (every
-- distributor's first endpoint, then every second one ...), and one endpoint takes at most its
-- share of the batch (the batch divided by the distributors with something due, at least one),
-- besides its max_concurrency. A distributor may have at most 20 webhook endpoints.

create function public.claim_deliveries_v2(p_worker_id text, p_batch integer, p_lease_seconds integer)
returns table (delivery_id uuid, distributor_id uuid, endpoint_id uuid, url text, secrets text[], event_id text,
               event_type text, payload bytea, attempts integer)
language sql
set search_path = ''
as $$
  with endpoints as (
    select e.id, e.distributor_id, e.url, e.secret, e.previous_secret, e.previous_secret_expires_at, e.max_concurrency
      from public.webhook_endpoints e
     where e.enabled
       and exists (select from public.webhook_deliveries d
                    where d.endpoint_id = e.id and d.state = 'pending' and d.next_attempt_at <= now()
                      and (d.locked_until is null or d.locked_until < now()))
     for no key update of e skip locked
  ),
  tenants as (
    select count(distinct e.distributor_id) as n from endpoints e
  ),
  ranked as (
    select e.*, o.oldest,
           row_number() over (partition by e.distributor_id order by o.oldest, e.id) as turn,
           greatest(1, ceil(p_batch::numeric / greatest(1, t.n)))::integer as share
      from endpoints e
      cross join tenants t
      cross join lateral (select min(d.next_attempt_at) as oldest from public.webhook_deliveries d
                           where d.endpoint_id = e.id and d.state = 'pending') o
  ),
  picked as (
    select d.id, e.url, e.secret, e.previous_secret, e.previous_secret_expires_at
      from (select * from ranked order by turn, oldest, id) e
      cross join lateral (
        select q.id from public.webhook_deliveries q
         where q.endpoint_id = e.id and q.state = 'pending' and q.next_attempt_at <= now()
           and (q.locked_until is null or q.locked_until < now())
         order by q.next_attempt_at
         limit greatest(0, least(e.share, e.max_concurrency - (
           select count(*) from public.webhook_deliveries f
            where f.endpoint_id = e.id and f.locked_until >= now() and f.state = 'pending')))
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
comment on function public.claim_deliveries_v2 is
  'Lease a batch of due webhook deliveries round-robin across distributors, at most max_concurrency in flight per endpoint';
revoke execute on function public.claim_deliveries_v2 from public, anon, authenticated;
grant execute on function public.claim_deliveries_v2 to service_role;

create function private.limit_webhook_endpoints() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform pg_advisory_xact_lock(hashtextextended('webhook_endpoints:' || new.distributor_id::text, 0));
  if (select count(*) from public.webhook_endpoints e where e.distributor_id = new.distributor_id) >= 20 then
    raise exception 'a distributor may have at most 20 webhook endpoints'
      using errcode = 'check_violation', constraint = 'webhook_endpoints_per_distributor';
  end if;
  return new;
end
$$;
revoke execute on function private.limit_webhook_endpoints from public;
create trigger limit_webhook_endpoints before insert on public.webhook_endpoints
  for each row execute function private.limit_webhook_endpoints();
