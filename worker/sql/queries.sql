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
select message_id, created from public.ingest_message_v3(
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
select public.apply_retention_v2(%(distributor_id)s, %(data_kind)s, %(batch)s::integer) as affected;

-- retention_due --
-- How many rows of one data kind are past the distributor's window (what a run would change)
select public.retention_due_v2(%(distributor_id)s, %(data_kind)s) as due;

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

-- product_by_sku --
-- One product of the distributor's catalog by SKU
select p.id::text, p.sku, p.name, p.active from public.products p
 where p.distributor_id = %(distributor_id)s and p.sku = %(sku)s;

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

-- ops_create_distributor --
-- Create a distributor (the operator's `distributors create`); nothing when the slug exists
insert into public.distributors (slug, name, country, locale, currency, timezone)
values (%(slug)s, %(name)s, %(country)s, %(locale)s, %(currency)s, %(timezone)s)
on conflict (slug) do nothing
returning id::text, slug, name, country, locale, currency, timezone, status, created_at;

-- ops_distributors --
-- Every distributor (or one slug) with what the operator set up: products, integrations, endpoints, budget, orders
select d.id::text, d.slug, d.name, d.country, d.locale, d.currency, d.timezone, d.status, d.created_at,
       (select count(*) from public.products p where p.distributor_id = d.id and p.active) as active_products,
       (select count(*) from public.external_integrations i where i.distributor_id = d.id and i.enabled) as integrations,
       (select count(*) from public.webhook_endpoints e where e.distributor_id = d.id and e.enabled) as endpoints,
       (select b.monthly_budget_micro_usd from public.ai_budgets b where b.distributor_id = d.id) as budget_micro_usd,
       (select b.mode from public.ai_budgets b where b.distributor_id = d.id) as budget_mode,
       (select count(*) from public.orders o where o.distributor_id = d.id) as orders,
       (select count(*) from public.orders o where o.distributor_id = d.id and o.status = 'needs_review') as in_review
  from public.distributors d
 where %(slug)s::text is null or d.slug = %(slug)s::text
 order by d.slug;

-- ops_import_catalog --
-- Upsert a validated catalog by SKU in one transaction (optionally deactivating SKUs the file lacks)
select public.import_catalog_v2(%(distributor_id)s, %(products)s::jsonb, %(prune)s) as result;

-- ops_catalog_skus --
-- A distributor's SKUs, active or not (to check an order history file before importing it)
select sku from public.products where distributor_id = %(distributor_id)s;

-- ops_customer_by_phone_hash --
-- A distributor's customer by the keyed hash of their phone
select id::text, name from public.customers where distributor_id = %(distributor_id)s and phone_hash = %(phone_hash)s;

-- ops_create_customer --
-- A customer found by phone hash, created (with the encrypted phone) when missing
with created as (
  insert into public.customers (distributor_id, name, phone_hash, phone_encrypted)
  values (%(distributor_id)s, %(name)s, %(phone_hash)s, %(phone_encrypted)s)
  on conflict (distributor_id, phone_hash) where phone_hash is not null do nothing
  returning id::text
)
select id from created
union all
select id::text from public.customers where distributor_id = %(distributor_id)s and phone_hash = %(phone_hash)s
limit 1;

-- ops_import_order --
-- Import one ERP order (idempotent on distributor and external id)
select order_id::text, created from public.import_order_v1(%(distributor_id)s, %(external_id)s, %(customer_id)s,
  %(ordered_at)s, %(items)s::jsonb);

-- ops_upsert_whatsapp --
-- Create or update a distributor's WhatsApp number (never another distributor's); the access token arrives sealed
insert into public.external_integrations as i (distributor_id, kind, name, channel, external_account_id, verify_token,
                                               app_secret, access_token_encrypted, settings, enabled)
values (%(distributor_id)s, 'whatsapp_cloud', %(name)s, 'whatsapp', %(account)s, %(verify_token)s, %(app_secret)s,
        %(access_token_encrypted)s, %(settings)s::jsonb, true)
on conflict (kind, external_account_id) do update
  set name = excluded.name, verify_token = excluded.verify_token, app_secret = excluded.app_secret,
      access_token_encrypted = excluded.access_token_encrypted, access_token = null, settings = excluded.settings,
      enabled = true
  where i.distributor_id = excluded.distributor_id
returning id::text;

-- ops_insert_channel --
-- Create a generic channel integration with its whsec_ signing secret
insert into public.external_integrations (distributor_id, kind, name, channel, external_account_id, signing_secret)
values (%(distributor_id)s, 'channel', %(name)s, %(channel)s, %(account)s, %(signing_secret)s)
on conflict (kind, external_account_id) do nothing
returning id::text;

-- ops_integrations --
-- Integrations (no secrets): whether each secret is set, never its value
select i.id::text, d.slug, i.kind, i.name, i.channel, i.external_account_id, i.enabled, i.settings, i.created_at,
       i.app_secret is not null as has_app_secret, i.verify_token is not null as has_verify_token,
       i.signing_secret is not null as has_signing_secret,
       (i.access_token_encrypted is not null or i.access_token is not null) as has_access_token
  from public.external_integrations i join public.distributors d on d.id = i.distributor_id
 where %(slug)s::text is null or d.slug = %(slug)s::text
 order by d.slug, i.created_at;

-- ops_disable_integration --
-- Disable one integration (its webhooks are then refused)
update public.external_integrations set enabled = false where id = %(id)s returning id::text, kind, external_account_id;

-- ops_insert_endpoint --
-- Add a webhook endpoint with its signing secret
insert into public.webhook_endpoints (distributor_id, url, description, secret, event_types)
values (%(distributor_id)s, %(url)s, %(description)s, %(secret)s, %(event_types)s::text[])
returning id::text;

-- ops_endpoints --
-- Webhook endpoints (no secrets), with their health and pending deliveries
select e.id::text, d.slug, e.url, e.description, e.event_types, e.enabled, e.disabled_reason, e.failing_since,
       e.last_success_at, e.previous_secret_expires_at, e.created_at,
       (select count(*) from public.webhook_deliveries w where w.endpoint_id = e.id and w.state = 'pending') as pending
  from public.webhook_endpoints e join public.distributors d on d.id = e.distributor_id
 where %(slug)s::text is null or d.slug = %(slug)s::text
 order by d.slug, e.created_at;

-- ops_rotate_endpoint_secret --
-- New signing secret; the old one keeps signing until the grace period ends
update public.webhook_endpoints
   set previous_secret = secret, secret = %(secret)s,
       previous_secret_expires_at = now() + make_interval(secs => %(grace_seconds)s::double precision)
 where id = %(id)s
returning id::text, previous_secret_expires_at;

-- ops_disable_endpoint --
-- Disable one endpoint by the operator (its pending deliveries wait until it is enabled again)
update public.webhook_endpoints set enabled = false, disabled_at = now(), disabled_reason = %(reason)s
 where id = %(id)s returning id::text, url;

-- ops_endpoint_for_test --
-- One endpoint's URL and active secrets (newest first), for a signed ping
select e.id::text, e.distributor_id::text, e.url,
       array_remove(array[e.secret, case when e.previous_secret_expires_at > now() then e.previous_secret end], null)
         as secrets
  from public.webhook_endpoints e where e.id = %(id)s;

-- ops_set_budget --
-- Set a distributor's monthly AI budget (micro-USD), mode and alert thresholds
insert into public.ai_budgets (distributor_id, monthly_budget_micro_usd, mode, thresholds)
values (%(distributor_id)s, %(micro_usd)s, %(mode)s, %(thresholds)s::integer[])
on conflict (distributor_id) do update
  set monthly_budget_micro_usd = excluded.monthly_budget_micro_usd, mode = excluded.mode, thresholds = excluded.thresholds
returning monthly_budget_micro_usd, mode, thresholds;

-- ops_orders --
-- Orders newest first (optionally one distributor, customers, status, since), with customer and lines
select o.id::text, d.slug as distributor, o.status::text as status, o.created_at, o.external_id,
       jsonb_build_object('id', o.customer_id, 'name', cu.name) as customer, o.total_cents, o.currency,
       o.review_reasons, o.confirmed_at, o.ai_source_message_id::text as source_message_id,
       coalesce((select jsonb_agg(jsonb_build_object('id', op.id, 'line_no', op.line_no, 'sku', op.sku,
                                                     'name', op.product_name, 'quantity', op.quantity, 'unit', op.unit,
                                                     'unit_price_cents', op.unit_price_cents,
                                                     'total_cents', op.total_cents, 'confidence', op.confidence,
                                                     'customer_text', op.customer_text,
                                                     'review_reason', op.review_reason) order by op.line_no)
                   from public.order_products op
                  where op.distributor_id = o.distributor_id and op.order_id = o.id), '[]'::jsonb) as lines
  from public.orders o
  join public.distributors d on d.id = o.distributor_id
  join public.customers cu on cu.distributor_id = o.distributor_id and cu.id = o.customer_id
 where (%(distributor_id)s::uuid is null or o.distributor_id = %(distributor_id)s::uuid)
   and (%(customer_ids)s::uuid[] is null or o.customer_id = any (%(customer_ids)s::uuid[]))
   and (%(status)s::text is null or o.status::text = %(status)s::text)
   and (%(since)s::timestamptz is null or o.created_at >= %(since)s::timestamptz)
   and (%(order_id)s::uuid is null or o.id = %(order_id)s::uuid)
 order by o.created_at desc, o.id
 limit %(limit)s;

-- ops_order_history --
-- What happened to one order, oldest first: its revisions (event, source, actor, change) and its audit trail rows
select r.created_at as at, r.event as action, r.source as actor_role, r.actor_id::text as actor,
       r.snapshot ->> 'status' as status, null::text as previous_status, r.change as details, r.revision
  from public.order_revisions r
 where r.order_id = %(order_id)s
   and r.distributor_id = (select o.distributor_id from public.orders o where o.id = %(order_id)s)
union all
select a.occurred_at, a.action, a.actor_role, a.actor_user_id::text,
       a.new_values ->> 'status', a.old_values ->> 'status', null::jsonb, null::integer
  from public.data_access_audit a
 where a.table_name = 'orders' and a.row_id = %(order_id)s
 order by 1, 2;

-- ops_messages --
-- Messages of customers (or a distributor), oldest first, redacted text only, outbound with their delivery status
select m.id::text, d.slug as distributor, m.customer_id::text, m.direction, m.kind,
       case when m.direction = 'outbound' then coalesce(m.body_redacted, m.body) else m.body_redacted end as text,
       case when m.direction = 'outbound'
            then coalesce((select x.external_status from public.external_message_mappings x
                            where x.distributor_id = m.distributor_id and x.message_id = m.id
                            order by x.status_at desc nulls last limit 1), 'queued')
            else m.state::text end as status,
       m.received_at, m.provider_message_id
  from public.messages m join public.distributors d on d.id = m.distributor_id
 where (%(distributor_id)s::uuid is null or m.distributor_id = %(distributor_id)s::uuid)
   and (%(customer_ids)s::uuid[] is null or m.customer_id = any (%(customer_ids)s::uuid[]))
   and (%(message_ids)s::uuid[] is null or m.id = any (%(message_ids)s::uuid[]))
 order by m.received_at, m.created_at, m.id
 limit %(limit)s;

-- ops_review_correct_line --
-- Staff review (as the service): correct or confirm one line through the same RPC staff call
select public.review_correct_line_v1(%(line_id)s::uuid, %(product_id)s::uuid, %(quantity)s::numeric, %(confirm)s,
                                     %(alias)s) as result;

-- ops_review_confirm_order --
-- Staff review (as the service): confirm every line and the order
select public.review_confirm_order_v1(%(order_id)s::uuid, %(aliases)s::jsonb) as result;

-- ops_review_add_line --
-- Staff review (as the service): add a line
select public.review_add_line_v1(%(order_id)s::uuid, %(product_id)s::uuid, %(quantity)s::numeric) as result;

-- ops_review_remove_line --
-- Staff review (as the service): remove a line
select public.review_remove_line_v1(%(line_id)s::uuid) as result;

-- ops_review_cancel_order --
-- Staff review (as the service): cancel an order
select public.review_cancel_order_v1(%(order_id)s::uuid, %(reason)s) as result;

-- ops_review_add_alias --
-- Catalog alias (as the service): add an alias to a product
select public.review_add_alias_v1(%(product_id)s::uuid, %(alias)s) as result;

-- ops_order_lines_for_review --
-- An order's lines with what the alias computation needs (text, match method, language)
select op.id::text, op.distributor_id::text, op.line_no, op.customer_text, op.product_id::text, op.match_method,
       o.status::text as order_status, m.language
  from public.orders o
  join public.order_products op on op.distributor_id = o.distributor_id and op.order_id = o.id
  left join public.messages m on m.distributor_id = o.distributor_id and m.id = o.ai_source_message_id
 where o.id = %(order_id)s
 order by op.line_no;

-- plaintext_attachments --
-- Attachments whose caption or location is still plaintext, a batch
select id, distributor_id, caption, location::text as location from public.order_attachments
 where caption is not null or location is not null
 order by distributor_id limit %(limit)s;

-- encrypt_attachment --
-- Replace an attachment's plaintext caption and location by their ciphertexts
update public.order_attachments
   set caption = null, location = null,
       caption_encrypted = coalesce(%(caption_encrypted)s, caption_encrypted),
       location_encrypted = coalesce(%(location_encrypted)s, location_encrypted)
 where id = %(id)s and caption is not distinct from %(caption)s and location::text is not distinct from %(location)s;

-- refresh_rollups_one --
-- Recompute one distributor's roll-ups since a date (its own transaction)
select public.refresh_rollups_v2(%(since)s::date, %(distributor_id)s::uuid) as result;

-- message_media_sources --
-- A message's media attachments, the token of its conversation's integration, and what was already kept of each
select a.media_id, a.kind, a.caption, i.kind as integration_kind, i.access_token, i.access_token_encrypted,
       x.state as kept_state, x.mime_type as kept_mime_type, x.content_encrypted, x.transcript
  from public.order_attachments a
  join public.messages m on m.distributor_id = a.distributor_id and m.id = a.message_id
  join public.conversations c on c.distributor_id = m.distributor_id and c.id = m.conversation_id
  left join public.external_integrations i on i.distributor_id = c.distributor_id and i.id = c.integration_id
  left join public.message_media x on x.distributor_id = a.distributor_id and x.message_id = a.message_id
                                  and x.media_id = a.media_id
 where a.distributor_id = %(distributor_id)s and a.message_id = %(message_id)s and a.media_id is not null
 order by a.created_at, a.id;

-- keep_message_media --
-- Keep (or record the refusal of) one fetched media item of a message, its bytes sealed by the service
insert into public.message_media (distributor_id, message_id, media_id, kind, mime_type, size_bytes, sha256,
                                  content_encrypted, state, error)
values (%(distributor_id)s, %(message_id)s, %(media_id)s, %(kind)s, %(mime_type)s, %(size_bytes)s, %(sha256)s,
        %(content_encrypted)s, %(state)s, %(error)s)
on conflict (distributor_id, message_id, media_id) do update
   set mime_type = excluded.mime_type, size_bytes = excluded.size_bytes, sha256 = excluded.sha256,
       content_encrypted = excluded.content_encrypted, state = excluded.state, error = excluded.error;

-- set_media_transcript --
-- A voice note's transcript, kept beside its media
update public.message_media set transcript = %(transcript)s
 where distributor_id = %(distributor_id)s and message_id = %(message_id)s and media_id = %(media_id)s;

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
