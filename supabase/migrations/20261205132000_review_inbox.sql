-- The review inbox a staff UI reads in one query, and live updates through Supabase Realtime.
--
-- review_inbox runs as the caller (security_invoker): RLS on orders, customers, messages,
-- order_products, product_matching_history and products decides what a user sees, so a staff
-- member sees their distributor's orders in review and nothing else. The source text is the
-- message's redacted body (body_redacted), never the body. For each line that needs review
-- (unmatched, low confidence ...) it lists the matcher's top catalog candidates, best first,
-- resolved to the distributor's active products.

create view public.review_inbox with (security_invoker = true) as
select o.id as order_id,
       o.distributor_id,
       o.created_at,
       o.status,
       o.review_reasons,
       o.total_cents,
       o.currency,
       o.customer_id,
       cu.name as customer_name,
       o.ai_source_message_id as message_id,
       m.body_redacted as source_text,
       m.received_at,
       coalesce((
         select jsonb_agg(jsonb_build_object(
                  'id', op.id, 'line_no', op.line_no, 'customer_text', op.customer_text, 'product_id', op.product_id,
                  'sku', op.sku, 'name', op.product_name, 'quantity', op.quantity, 'unit', op.unit,
                  'total_cents', op.total_cents, 'confidence', op.confidence, 'review_reason', op.review_reason,
                  'candidates', case when op.review_reason is null then '[]'::jsonb else coalesce((
                    select jsonb_agg(jsonb_build_object('product_id', p.id, 'sku', p.sku, 'name', p.name,
                                                        'unit', p.unit, 'price_cents', p.price_cents,
                                                        'score', (c.candidate ->> 'score')::numeric)
                                     order by c.ord)
                      from (select h.candidates from public.product_matching_history h
                             where h.distributor_id = op.distributor_id and h.order_product_id = op.id
                             order by h.created_at desc limit 1) last_match
                     cross join lateral jsonb_array_elements(last_match.candidates) with ordinality as c(candidate, ord)
                      join public.products p
                        on p.distributor_id = op.distributor_id and p.sku = c.candidate ->> 'sku' and p.active),
                    '[]'::jsonb) end)
                order by op.line_no)
           from public.order_products op
          where op.distributor_id = o.distributor_id and op.order_id = o.id), '[]'::jsonb) as lines
  from public.orders o
  join public.customers cu on cu.distributor_id = o.distributor_id and cu.id = o.customer_id
  left join public.messages m on m.distributor_id = o.distributor_id and m.id = o.ai_source_message_id
 where o.status = 'needs_review';
comment on view public.review_inbox is
  'Orders needing review with reasons, the redacted source text, lines and the top catalog candidates of unsure lines (security invoker)';

revoke all on public.review_inbox from public, anon;
grant select on public.review_inbox to authenticated, service_role;

-- Realtime: Supabase projects have the supabase_realtime publication (the local bootstrap creates
-- it too); staff UIs then see orders, their lines and messages change live, under RLS. messages is
-- published without its raw text columns (body, raw_payload, raw_payload_encrypted).
do $$
begin
  if not exists (select from pg_catalog.pg_publication where pubname = 'supabase_realtime') then
    return;
  end if;
  if not exists (select from pg_catalog.pg_publication_tables
                  where pubname = 'supabase_realtime' and schemaname = 'public' and tablename = 'orders') then
    alter publication supabase_realtime add table public.orders;
  end if;
  if not exists (select from pg_catalog.pg_publication_tables
                  where pubname = 'supabase_realtime' and schemaname = 'public' and tablename = 'order_products') then
    alter publication supabase_realtime add table public.order_products;
  end if;
  if not exists (select from pg_catalog.pg_publication_tables
                  where pubname = 'supabase_realtime' and schemaname = 'public' and tablename = 'messages') then
    alter publication supabase_realtime add table public.messages
      (id, distributor_id, conversation_id, customer_id, direction, channel, provider_message_id, kind, body_redacted,
       language, received_at, state, processed_at, needs_review, review_reasons, created_at, updated_at);
  end if;
end
$$;
