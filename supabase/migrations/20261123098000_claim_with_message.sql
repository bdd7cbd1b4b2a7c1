-- claim_messages_v3: the v2 claim (round-robin across distributors, AI tokens respected) that also
-- returns what the pipeline reads of each message and its customer, saving a round trip per
-- message. v1 and v2 stay for workers still running an older version (STYLE: drop them later).

create function public.claim_messages_v3(p_worker_id text, p_batch integer, p_lease_seconds integer,
                                         p_per_distributor integer)
returns table (message_id uuid, distributor_id uuid, attempts integer, customer_id uuid, kind text, body text,
               needs_review boolean, review_reasons text[], preferred_language text)
language sql
set search_path = ''
as $$
  select c.message_id, c.distributor_id, c.attempts, m.customer_id, m.kind, m.body, m.needs_review, m.review_reasons,
         cu.preferred_language
    from public.claim_messages_v2(p_worker_id, p_batch, p_lease_seconds, p_per_distributor) c
    join public.messages m on m.distributor_id = c.distributor_id and m.id = c.message_id
    join public.customers cu on cu.distributor_id = m.distributor_id and cu.id = m.customer_id
$$;

revoke execute on function public.claim_messages_v3 from public, anon, authenticated;
grant execute on function public.claim_messages_v3 to service_role;
