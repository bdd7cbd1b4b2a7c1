-- Queries only `orderflow demo` runs (worker.demo.run): loaded beside the runtime queries
-- by a Repository made with query_packages=("worker.demo",).

-- demo_integrations --
-- The demo's WhatsApp numbers and their app secrets (to sign the payloads it posts)
select d.slug, i.external_account_id as phone_number_id, i.app_secret
  from public.external_integrations i join public.distributors d on d.id = i.distributor_id
 where i.kind = 'whatsapp_cloud' and i.enabled order by d.slug;

-- demo_endpoint_secrets --
-- The demo endpoints' signing secrets (for the local receiver to verify with)
select d.slug, e.secret from public.webhook_endpoints e join public.distributors d on d.id = e.distributor_id
 where e.enabled order by d.slug;

-- demo_progress --
-- What is left to do: messages not yet processed and deliveries not yet done
select (select count(*) from public.messages where direction = 'inbound' and state in ('queued', 'processing')) as open_messages,
       (select count(*) from public.messages where direction = 'inbound') as messages,
       (select count(*) from public.webhook_deliveries where state = 'pending') as pending_deliveries,
       (select count(*) from public.webhook_deliveries) as deliveries;

-- demo_summary --
-- Per distributor: messages by state, orders, PII, AI usage, alerts, deliveries
select d.slug, d.name, d.currency,
  (select count(*) from public.messages m where m.distributor_id = d.id and m.direction = 'inbound') as messages,
  (select count(*) from public.messages m where m.distributor_id = d.id and m.direction = 'inbound' and m.state = 'processed') as processed,
  (select count(*) from public.messages m where m.distributor_id = d.id and m.direction = 'inbound' and m.state = 'failed') as failed,
  (select count(*) from public.messages m where m.distributor_id = d.id and m.direction = 'inbound' and m.needs_review) as in_review,
  (select count(*) from public.messages m where m.distributor_id = d.id and m.direction = 'outbound') as replies,
  (select count(*) from public.orders o where o.distributor_id = d.id and o.status = 'created') as orders_created,
  (select count(*) from public.orders o where o.distributor_id = d.id and o.status = 'needs_review') as orders_review,
  (select coalesce(jsonb_object_agg(category, n), '{}'::jsonb) from (
     select p.category, count(*) as n from public.pii_detection_results p where p.distributor_id = d.id group by p.category) x) as pii,
  (select count(*) from public.ai_usage_metrics u where u.distributor_id = d.id) as ai_calls,
  (select coalesce(sum(u.cost_micro_usd), 0) from public.ai_usage_metrics u where u.distributor_id = d.id) as ai_cost_micro_usd,
  (select count(*) from public.ai_budget_alerts a where a.distributor_id = d.id) as budget_alerts,
  (select count(*) from public.webhook_deliveries w where w.distributor_id = d.id and w.state = 'succeeded') as delivered,
  (select count(*) from public.webhook_deliveries w where w.distributor_id = d.id and w.state <> 'succeeded') as not_delivered
from public.distributors d order by d.slug;

-- demo_orders --
-- Every order with its lines, for the demo summary
select d.slug, o.status::text as status, o.total_cents, o.currency, o.review_reasons,
       coalesce(string_agg(coalesce(op.sku, '?') || ' x' || trim(trailing '.' from trim(trailing '0' from op.quantity::text))
                           || case when op.review_reason is not null then ' (' || op.review_reason || ')' else '' end,
                           ', ' order by op.line_no), '') as lines
  from public.orders o
  join public.distributors d on d.id = o.distributor_id
  left join public.order_products op on op.distributor_id = o.distributor_id and op.order_id = o.id
 group by d.slug, o.id order by d.slug, o.created_at;

-- demo_whatsapp_integrations --
-- The demo's WhatsApp integrations (to store the stand-in's access token for each)
select i.id::text as integration_id, i.distributor_id::text as distributor_id, d.slug
  from public.external_integrations i join public.distributors d on d.id = i.distributor_id
 where i.kind = 'whatsapp_cloud' and i.enabled order by d.slug;

-- demo_replies --
-- Replies to customers by status and whether any is still waiting to be sent
select (select count(*) from public.reply_deliveries where status = 'queued') as queued,
       coalesce((select jsonb_object_agg(status, n) from (select status::text, count(*) as n from public.reply_deliveries
                                                          group by status) s), '{}'::jsonb) as by_status;

