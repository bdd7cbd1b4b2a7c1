-- claim_messages --
-- Claim a batch of due messages under a lease, round-robin across distributors, none of one without AI tokens,
-- one per customer at a time in received_at order, with the message fields the pipeline reads
select message_id, distributor_id, attempts, customer_id, kind, body, needs_review, review_reasons, preferred_language,
       received_at
  from public.claim_messages_v5(%(worker_id)s, %(batch)s, %(lease_seconds)s, %(per_distributor)s);

-- defer_messages --
-- Give back claimed messages of a distributor over its AI rate: due again after `seconds`, no attempt spent
select public.defer_messages_v1(%(worker_id)s, %(ids)s::uuid[], %(seconds)s) as deferred;

-- take_rate_token --
-- Take one token of a distributor's inbound or ai rate limit (the integration's row, the distributor's, the default)
select allowed, retry_after, limited
  from public.take_rate_token_v1(%(distributor_id)s, %(integration_id)s, %(scope)s, %(default_rpm)s, %(default_burst)s);

-- ai_rate_limit --
-- The distributor's AI call limit (requests per minute), if it has one
select requests_per_minute from public.api_rate_limits
 where distributor_id = %(distributor_id)s and scope = 'ai' and integration_id is null;

-- extend_leases --
-- Heartbeat: extend the leases this worker still holds
select public.extend_leases_v1(%(worker_id)s, %(ids)s::uuid[], %(lease_seconds)s) as id;

-- release_messages --
-- Give back claimed messages that were not started (shutdown)
select public.release_messages_v1(%(worker_id)s, %(ids)s::uuid[]) as released;

-- fail_message --
-- Record a failed attempt: retry later or mark failed
select public.fail_message_v1(%(message_id)s, %(worker_id)s, %(error_type)s, %(error_message)s, %(retryable)s, %(retry_delay)s)::text as state;

-- record_outcome --
-- Write everything one message produced and what it did to the customer's orders (a revision), atomically
select public.record_outcome_v2(%(outcome)s::jsonb) as result;

-- load_message --
-- The message to process, with what the pipeline needs to know about its customer
select m.id, m.distributor_id, m.customer_id, m.conversation_id, m.kind, m.body, m.needs_review, m.review_reasons,
       m.attempts, m.max_attempts, cu.preferred_language, m.received_at
  from public.messages m
  join public.customers cu on cu.distributor_id = m.distributor_id and cu.id = m.customer_id
 where m.id = %(message_id)s and m.distributor_id = %(distributor_id)s;

-- load_distributor --
-- A distributor's settings the pipeline uses
select d.id, d.slug, d.name, d.timezone, d.locale, d.currency,
       b.monthly_budget_micro_usd, b.mode as budget_mode, d.order_followup_window_s, d.order_confirmation,
       d.order_cutoff_local
  from public.distributors d
  left join public.ai_budgets b on b.distributor_id = d.id
 where d.id = %(distributor_id)s;

-- load_catalog --
-- A distributor's active products
select p.id::text, p.sku, p.name, p.aliases, p.unit, p.pack_size, p.price_cents, c.name as category
  from public.products p
  left join public.product_categories c on c.distributor_id = p.distributor_id and c.id = p.category_id
 where p.distributor_id = %(distributor_id)s and p.active
 order by p.sku;

-- catalog_version --
-- Changes when the distributor's catalog changes (cache key)
select coalesce(max(p.updated_at), 'epoch'::timestamptz)::text || ':' || count(*)::text as version
  from public.products p where p.distributor_id = %(distributor_id)s;

-- month_spend --
-- AI spend of the distributor's current month (micro-USD), for hard budget stops
select coalesce(u.ai_cost_micro_usd, 0) as spent
  from public.distributors d
  left join public.distributor_usage u
    on u.distributor_id = d.id and u.period = date_trunc('month', now() at time zone d.timezone)::date
 where d.id = %(distributor_id)s;

-- recent_orders --
-- The customer's last orders (sku, quantity), for the LLM prompt
select o.id, op.sku, op.quantity
  from (select id, distributor_id from public.orders
         where distributor_id = %(distributor_id)s and customer_id = %(customer_id)s and status <> 'cancelled'
         order by created_at desc limit 3) o
  join public.order_products op on op.distributor_id = o.distributor_id and op.order_id = o.id
 where op.sku is not null;

-- load_prices --
-- The versioned model price table
select id::text, provider, model, effective_from, input_per_mtok_micro_usd, cached_input_per_mtok_micro_usd,
       output_per_mtok_micro_usd
  from public.ai_model_prices order by provider, model, effective_from;

-- ingest_message --
-- Store one inbound message (deduplicated on the provider id) with its handle, phone and payload hashed and encrypted
select message_id, created from public.ingest_message_v2(
  %(distributor_id)s, %(channel)s, %(provider_message_id)s, %(handle_hash)s, %(handle_encrypted)s, %(phone_hash)s,
  %(phone_encrypted)s, %(profile_name)s, %(body)s, %(kind)s, %(raw_encrypted)s, %(received_at)s, %(integration_id)s,
  %(needs_review)s, %(review_reasons)s::text[], %(attachments)s::jsonb);

-- distributor_by_slug --
-- Resolve a distributor slug to its id
select id from public.distributors where slug = %(slug)s;

-- all_distributors --
-- Every distributor's slug and id
select id, slug, name from public.distributors order by slug;

-- status_by_distributor --
-- Queue depth by state, oldest queued age, last-minute throughput and failures, per distributor
select d.slug,
       count(*) filter (where m.state = 'queued') as queued,
       count(*) filter (where m.state = 'processing') as processing,
       count(*) filter (where m.state = 'processed') as processed,
       count(*) filter (where m.state = 'failed') as failed,
       count(*) filter (where m.state = 'processed' and m.needs_review) as in_review,
       coalesce(extract(epoch from now() - min(m.received_at) filter (where m.state = 'queued')), 0)::float as oldest_queued_s,
       count(*) filter (where m.processed_at > now() - interval '1 minute') as last_minute
  from public.distributors d
  left join public.messages m on m.distributor_id = d.id and m.direction = 'inbound'
 group by d.slug
 order by d.slug;

-- upsert_distributor --
-- Create or update a distributor by slug
insert into public.distributors (slug, name, country, locale, currency, timezone)
values (%(slug)s, %(name)s, %(country)s, %(locale)s, %(currency)s, %(timezone)s)
on conflict (slug) do update set name = excluded.name, country = excluded.country, locale = excluded.locale,
  currency = excluded.currency, timezone = excluded.timezone
returning id;

-- upsert_category --
-- Create a product category if missing
insert into public.product_categories (distributor_id, name) values (%(distributor_id)s, %(name)s)
on conflict (distributor_id, name) do update set name = excluded.name
returning id;

-- upsert_product --
-- Create or update a product by SKU
insert into public.products (distributor_id, category_id, sku, name, aliases, unit, pack_size, price_cents, currency)
values (%(distributor_id)s, %(category_id)s, %(sku)s, %(name)s, %(aliases)s, %(unit)s, %(pack_size)s, %(price_cents)s, %(currency)s)
on conflict (distributor_id, sku) do update set category_id = excluded.category_id, name = excluded.name,
  aliases = excluded.aliases, unit = excluded.unit, pack_size = excluded.pack_size, price_cents = excluded.price_cents,
  currency = excluded.currency, active = true
returning id;

-- log_security_event --
-- Append a security event (failed signature check, budget hard stop ...) to security_audit_log
select public.log_security_event_v1(%(distributor_id)s, %(event_type)s, %(severity)s, %(actor)s, %(details)s::jsonb) as id;

-- create_invitation --
-- Invite an e-mail to a distributor with a role; a pending invitation of the same e-mail is renewed
insert into public.user_invitations (distributor_id, email, role, expires_at)
values (%(distributor_id)s, lower(%(email)s), %(role)s::public.user_role, now() + make_interval(days => %(days)s::integer))
on conflict (distributor_id, email) where used_at is null
do update set role = excluded.role, expires_at = excluded.expires_at
returning id, email, role::text as role, expires_at;

-- retention_policies --
-- The retention policy in force for every distributor (or one slug) and data kind, defaults included
select d.id as distributor_id, d.slug, r.data_kind, r.retain_days, r.action, r.is_default
  from public.distributors d
 cross join lateral public.retention_policies_v1(d.id) r
 where %(slug)s::text is null or d.slug = %(slug)s::text
 order by d.slug, r.data_kind;

-- apply_retention --
-- Anonymise or delete one batch of one data kind past the distributor's window; returns the rows changed
select public.apply_retention_v1(%(distributor_id)s, %(data_kind)s, %(batch)s::integer) as affected;

-- retention_due --
-- How many rows of one data kind are past the distributor's window (what a run would change)
select public.retention_due_v1(%(distributor_id)s, %(data_kind)s) as due;

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

-- learned_aliases_version --
-- Changes when the distributor-wide learned aliases change (second part of the catalog cache key)
select coalesce(max(la.updated_at), 'epoch'::timestamptz)::text || ':' || count(*)::text as version
  from public.learned_aliases la where la.distributor_id = %(distributor_id)s and la.customer_id is null;

-- load_learned_aliases --
-- The distributor-wide learned aliases (customer_id null) of active products, oldest change first
select la.alias, p.sku
  from public.learned_aliases la
  join public.products p on p.distributor_id = la.distributor_id and p.id = la.product_id
 where la.distributor_id = %(distributor_id)s and la.customer_id is null and p.active
 order by la.updated_at, la.id;

-- load_customer_learned_aliases --
-- One customer's own learned aliases (what this customer means by a word) of active products, oldest change first
select la.alias, p.sku
  from public.learned_aliases la
  join public.products p on p.distributor_id = la.distributor_id and p.id = la.product_id
 where la.distributor_id = %(distributor_id)s and la.customer_id = %(customer_id)s and p.active
 order by la.updated_at, la.id;

-- correction_line --
-- An order line as review sees it: its distributor, order, text, product and the message language
select op.id::text, op.distributor_id::text, op.order_id::text, op.line_no, op.customer_text, op.product_id::text,
       op.sku, op.quantity, op.match_method, op.review_reason, o.status::text as order_status, m.language
  from public.order_products op
  join public.orders o on o.distributor_id = op.distributor_id and o.id = op.order_id
  left join public.messages m on m.distributor_id = o.distributor_id and m.id = o.ai_source_message_id
 where op.id = %(order_product_id)s;

-- order_lines --
-- The lines of one order (to confirm them all), with the order's distributor and status
select op.id::text, op.distributor_id::text, op.line_no, op.sku, op.product_id::text, o.status::text as order_status
  from public.orders o
  join public.order_products op on op.distributor_id = o.distributor_id and op.order_id = o.id
 where o.id = %(order_id)s
 order by op.line_no;

-- product_by_sku --
-- One product of the distributor's catalog by SKU
select p.id::text, p.sku, p.name, p.active from public.products p
 where p.distributor_id = %(distributor_id)s and p.sku = %(sku)s;

-- correct_order_line --
-- Correct or confirm one line of the distributor's order: training data, learned aliases, order status
select public.correct_order_line_v1(op.id, %(product_id)s::uuid, %(quantity)s::numeric, %(confirm)s, %(alias)s) as result
  from public.order_products op
 where op.id = %(order_product_id)s and op.distributor_id = %(distributor_id)s;

-- refresh_rollups --
-- Recompute the AI performance roll-ups (per day) and distributor_usage (per month) since a date
select public.refresh_rollups_v1(%(since)s::date) as result;

-- active_data_key --
-- A distributor's active data key, wrapped
select id, distributor_id, key_version, wrapped_key, wrapped_with
  from public.encryption_keys where distributor_id = %(distributor_id)s and active;

-- create_data_key --
-- Store a distributor's first data key, unless a concurrent process stored one first
insert into public.encryption_keys (distributor_id, key_version, wrapped_key, wrapped_with)
values (%(distributor_id)s, %(version)s, %(wrapped_key)s, %(wrapped_with)s)
on conflict do nothing;

-- data_keys_not_wrapped_with --
-- Data keys a master key rotation still has to re-wrap
select id, distributor_id, key_version, wrapped_key, wrapped_with
  from public.encryption_keys where wrapped_with is distinct from %(wrapped_with)s order by distributor_id, key_version;

-- rewrap_data_key --
-- Replace one data key's wrapping (only if nobody re-wrapped it meanwhile)
update public.encryption_keys
   set wrapped_key = %(wrapped_key)s, wrapped_with = %(wrapped_with)s, rotated_at = now()
 where id = %(id)s and wrapped_with is not distinct from %(wrapped_with_before)s;

-- plaintext_customers --
-- Customers still holding a plaintext phone or address (legacy rows, staff edits), a batch
select id, distributor_id, phone, address from public.customers
 where phone is not null or address is not null
 order by distributor_id limit %(limit)s;

-- encrypt_customer --
-- Replace a customer's plaintext phone and address by their ciphertexts (the hash only if no other customer has it)
update public.customers c
   set phone = null, address = null,
       phone_encrypted = coalesce(%(phone_encrypted)s, c.phone_encrypted),
       address_encrypted = coalesce(%(address_encrypted)s, c.address_encrypted),
       phone_hash = case
         when %(phone_hash)s::bytea is null then c.phone_hash
         when exists (select from public.customers o where o.distributor_id = c.distributor_id
                        and o.phone_hash = %(phone_hash)s::bytea and o.id <> c.id) then c.phone_hash
         else %(phone_hash)s::bytea end
 where c.id = %(id)s and c.phone is not distinct from %(phone)s and c.address is not distinct from %(address)s;

-- plaintext_conversations --
-- Conversations whose handle is still plaintext, a batch
select id, distributor_id, channel, handle from public.conversations
 where handle not like 'h1:%%'
 order by distributor_id limit %(limit)s;

-- encrypt_conversation --
-- Replace a conversation's plaintext handle by its hash and ciphertext; a clash with an open conversation closes this one
update public.conversations c
   set handle = %(handle_hash)s, handle_encrypted = %(handle_encrypted)s,
       status = case when c.status = 'open' and exists (
                  select from public.conversations o where o.distributor_id = c.distributor_id and o.channel = c.channel
                     and o.handle = %(handle_hash)s and o.status = 'open' and o.id <> c.id) then 'closed' else c.status end
 where c.id = %(id)s and c.handle = %(handle)s;

-- plaintext_payloads --
-- Messages whose raw payload is still plaintext, a batch
select id, distributor_id, raw_payload::text as raw_payload from public.messages
 where raw_payload is not null
 order by distributor_id limit %(limit)s;

-- encrypt_payload --
-- Replace a message's plaintext payload by its ciphertext
update public.messages set raw_payload = null, raw_payload_encrypted = %(raw_encrypted)s
 where id = %(id)s and raw_payload is not null;

-- customer_secrets --
-- One distributor's customers with their ciphertexts, for service code that decrypts (optionally one phone hash)
select id, name, phone_encrypted, address_encrypted, phone, address from public.customers
 where distributor_id = %(distributor_id)s and (%(phone_hash)s::bytea is null or phone_hash = %(phone_hash)s::bytea)
 order by created_at, id limit %(limit)s;

-- message_payload --
-- One message's encrypted (or not yet encrypted) raw payload
select distributor_id, raw_payload_encrypted, raw_payload::text as raw_payload from public.messages where id = %(id)s;

-- data_keys_by_master --
-- How many data keys each master key wraps
select coalesce(wrapped_with, '(none)') as wrapped_with, count(*) as keys
  from public.encryption_keys group by wrapped_with order by wrapped_with;

-- plaintext_pending --
-- Rows still holding plaintext personal data, per kind
select (select count(*) from public.customers where phone is not null or address is not null) as customers,
       (select count(*) from public.conversations where handle not like 'h1:%%') as conversations,
       (select count(*) from public.messages where raw_payload is not null) as payloads;

-- conversation_orders --
-- The customer's open order (most recent not confirmed for dispatch, not cancelled) and last order (history included), with lines
select k.role, o.id::text, o.status::text as status, o.revision, o.created_at, o.last_message_at, o.followups_closed_at,
       o.customer_confirmed_at,
       coalesce((select m.received_at from public.messages m
                  where m.distributor_id = o.distributor_id and m.id = o.ai_source_message_id), o.created_at) as opened_at,
       coalesce((select jsonb_agg(jsonb_build_object('line_no', op.line_no, 'sku', op.sku, 'quantity', op.quantity,
                                                     'customer_text', op.customer_text, 'unit', op.unit,
                                                     'confidence', op.confidence, 'match_method', op.match_method,
                                                     'review_reason', op.review_reason) order by op.line_no)
                   from public.order_products op
                  where op.distributor_id = o.distributor_id and op.order_id = o.id), '[]'::jsonb) as lines
  from (
    (select 'open' as role, x.id from public.orders x
      where x.distributor_id = %(distributor_id)s and x.customer_id = %(customer_id)s and x.status in ('created', 'needs_review')
      order by x.created_at desc limit 1)
    union all
    (select 'last' as role, x.id from public.orders x
      where x.distributor_id = %(distributor_id)s and x.customer_id = %(customer_id)s and x.status <> 'cancelled'
      order by x.created_at desc limit 1)
  ) k
  join public.orders o on o.distributor_id = %(distributor_id)s and o.id = k.id;


-- eval_customer_of_message --
-- The customer a stored message belongs to (the conversation eval seeds history for them)
select customer_id::text from public.messages where id = %(message_id)s;

-- eval_history_order --
-- A past order of a customer (conversation eval history, as `orders import` would store it): fulfilled, priced from the catalog
with o as (
  insert into public.orders (distributor_id, customer_id, status, currency, created_at, updated_at)
  select d.id, %(customer_id)s::uuid, 'fulfilled', d.currency, %(created_at)s, %(created_at)s
    from public.distributors d where d.id = %(distributor_id)s
  returning id, distributor_id)
insert into public.order_products (distributor_id, order_id, product_id, line_no, customer_text, sku, product_name, quantity,
                                   unit, unit_price_cents, total_cents, match_method)
select o.distributor_id, o.id, p.id, i.n::int, coalesce(p.name, i.sku), i.sku, p.name, i.quantity, p.unit,
       coalesce(p.price_cents, 0), round(coalesce(p.price_cents, 0) * i.quantity)::bigint, 'history'
  from o
  cross join lateral rows from (jsonb_to_recordset(%(items)s::jsonb) as (sku text, quantity numeric)) with ordinality as i(sku, quantity, n)
  left join public.products p on p.distributor_id = o.distributor_id and p.sku = i.sku;

-- eval_customer_orders --
-- The orders messages made for a customer (history excluded), oldest first, with their lines
select o.id::text, o.status::text as status, o.revision,
       coalesce(jsonb_agg(jsonb_build_object('sku', op.sku, 'quantity', op.quantity) order by op.line_no)
                filter (where op.id is not null), '[]'::jsonb) as items
  from public.orders o
  left join public.order_products op on op.distributor_id = o.distributor_id and op.order_id = o.id
 where o.distributor_id = %(distributor_id)s and o.customer_id = %(customer_id)s::uuid and o.ai_source_message_id is not null
 group by o.id order by o.created_at, o.id;
