-- Encryption at rest for personal data: customers' phone numbers and addresses, the customer's
-- handle on the channel (a WhatsApp wa_id is a phone number) and raw inbound payloads.
--
-- Envelope encryption, done by service code (worker/encryption.py), never by the database:
--   master key   ORDERFLOW_MASTER_KEY in the service's environment; never stored here
--   data key     one per distributor, AES-256, kept in encryption_keys wrapped (AES-256-GCM) by the
--                master key; wrapped_with names the master key that wrapped it, so rotating the
--                master key re-wraps these rows and re-encrypts nothing else
--   ciphertext   bytea columns *_encrypted: format byte, key_version, nonce, AES-256-GCM output; the
--                associated data binds each value to its distributor and column, so a value copied
--                to another row or tenant does not decrypt
--   lookup hash  phone_hash / conversations.handle: HMAC-SHA256 under a key derived from the data
--                key, so equality lookups need no decryption and the hash means nothing without it
-- The plaintext columns (customers.phone, customers.address, conversations.handle as written by
-- ingest_message_v1, messages.raw_payload) stay for rows written before this migration and for
-- what staff type through a Supabase client; the worker encrypts them within minutes and clears
-- them (`orderflow keys encrypt-pending` does it on demand). A distributor's staff read the
-- ciphertext and hashes only: the key never reaches the database.

alter table public.encryption_keys add column wrapped_with text;
comment on column public.encryption_keys.wrapped_with is
  'Id of the master key that wrapped this data key (a fingerprint, not the key); rotation re-wraps rows of the old id';
comment on column public.encryption_keys.key_version is 'Version of the data key; ciphertexts carry it';
grant select (wrapped_with) on public.encryption_keys to authenticated;  -- the fingerprint; wrapped_key stays unreadable

alter table public.customers
  add column phone_hash bytea,
  add column phone_encrypted bytea,
  add column address_encrypted bytea;
create unique index customers_phone_hash_key on public.customers (distributor_id, phone_hash) where phone_hash is not null;
comment on column public.customers.phone is
  'Plaintext phone, only until the worker encrypts it into phone_encrypted (legacy rows and staff edits)';
comment on column public.customers.address is
  'Plaintext address, only until the worker encrypts it into address_encrypted';
comment on column public.customers.phone_hash is 'Keyed hash (HMAC-SHA256) of the phone: the intake looks customers up by it';
comment on column public.customers.phone_encrypted is 'The phone, AES-256-GCM under the distributor''s data key';
comment on column public.customers.address_encrypted is 'The address, AES-256-GCM under the distributor''s data key';

alter table public.conversations add column handle_encrypted bytea;
comment on column public.conversations.handle is
  'The customer''s address on the channel as a keyed hash (h1: + hex HMAC-SHA256); plaintext only in rows not yet encrypted';
comment on column public.conversations.handle_encrypted is 'The handle (wa_id, phone, chat id), AES-256-GCM under the distributor''s data key';

alter table public.messages add column raw_payload_encrypted bytea;
comment on column public.messages.raw_payload is 'Plaintext provider payload, only until the worker encrypts it into raw_payload_encrypted';
comment on column public.messages.raw_payload_encrypted is 'The provider''s payload (JSON), AES-256-GCM under the distributor''s data key';

-- What the worker still has to encrypt.
create index customers_plaintext_idx on public.customers (distributor_id) where phone is not null or address is not null;
create index conversations_plaintext_idx on public.conversations (distributor_id) where handle not like 'h1:%';
create index messages_plaintext_idx on public.messages (distributor_id) where raw_payload is not null;

-- Retention clears the encrypted payload with the rest of the message text.
drop index public.messages_retention_idx;
create index messages_retention_idx on public.messages (distributor_id, received_at)
  where body is not null or body_redacted is not null or raw_payload is not null or raw_payload_encrypted is not null;

create or replace function public.apply_retention_v1(p_distributor_id uuid, p_data_kind text, p_batch_size integer)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_policy record;
  v_cutoff timestamptz;
  v_count integer;
begin
  select r.* into v_policy from public.retention_policies_v1(p_distributor_id) r where r.data_kind = p_data_kind;
  if not found then
    raise exception 'unknown data kind %', p_data_kind using errcode = 'invalid_parameter_value';
  end if;
  if v_policy.action = 'keep' then
    return 0;
  end if;
  v_cutoff := now() - make_interval(days => v_policy.retain_days);

  -- The batch is collected first and the rows are then addressed by primary key.
  if p_data_kind = 'message_bodies' then
    update public.messages m
       set body = null, body_redacted = null, raw_payload = null, raw_payload_encrypted = null
     where m.id = any (array(
       select q.id from public.messages q
        where q.distributor_id = p_distributor_id and q.received_at < v_cutoff
          and (q.body is not null or q.body_redacted is not null or q.raw_payload is not null
               or q.raw_payload_encrypted is not null)
          and q.state not in ('queued', 'processing')
        order by q.received_at limit p_batch_size for update skip locked));
  elsif p_data_kind = 'pii_findings' then
    delete from public.pii_detection_results f
     where f.id = any (array(
       select q.id from public.pii_detection_results q
        where q.distributor_id = p_distributor_id and q.created_at < v_cutoff
        order by q.created_at limit p_batch_size for update skip locked));
  elsif p_data_kind = 'ai_responses' and v_policy.action = 'delete' then
    delete from public.ai_responses r
     where r.id = any (array(
       select q.id from public.ai_responses q
        where q.distributor_id = p_distributor_id and q.created_at < v_cutoff
        order by q.created_at limit p_batch_size for update skip locked));
  elsif p_data_kind = 'ai_responses' then
    update public.ai_responses r set output = '{}'::jsonb
     where r.id = any (array(
       select q.id from public.ai_responses q
        where q.distributor_id = p_distributor_id and q.created_at < v_cutoff and q.output <> '{}'::jsonb
        order by q.created_at limit p_batch_size for update skip locked));
  else
    return 0;
  end if;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

create or replace function public.retention_due_v1(p_distributor_id uuid, p_data_kind text)
returns bigint
language plpgsql stable
set search_path = ''
as $$
declare
  v_policy record;
  v_cutoff timestamptz;
begin
  select r.* into v_policy from public.retention_policies_v1(p_distributor_id) r where r.data_kind = p_data_kind;
  if not found then
    raise exception 'unknown data kind %', p_data_kind using errcode = 'invalid_parameter_value';
  end if;
  if v_policy.action = 'keep' then
    return 0;
  end if;
  v_cutoff := now() - make_interval(days => v_policy.retain_days);
  return case
    when p_data_kind = 'message_bodies' then (
      select count(*) from public.messages q
       where q.distributor_id = p_distributor_id and q.received_at < v_cutoff
         and (q.body is not null or q.body_redacted is not null or q.raw_payload is not null
              or q.raw_payload_encrypted is not null)
         and q.state not in ('queued', 'processing'))
    when p_data_kind = 'pii_findings' then (
      select count(*) from public.pii_detection_results q
       where q.distributor_id = p_distributor_id and q.created_at < v_cutoff)
    when p_data_kind = 'ai_responses' and v_policy.action = 'delete' then (
      select count(*) from public.ai_responses q
       where q.distributor_id = p_distributor_id and q.created_at < v_cutoff)
    when p_data_kind = 'ai_responses' then (
      select count(*) from public.ai_responses q
       where q.distributor_id = p_distributor_id and q.created_at < v_cutoff and q.output <> '{}'::jsonb)
    else 0
  end;
end
$$;

-- Intake v2: the same contract as v1, with the handle, the phone and the raw payload arriving
-- already hashed and encrypted by the service. v1 stays for intakes still running an older version.
create function public.ingest_message_v2(
  p_distributor_id uuid,
  p_channel text,
  p_provider_message_id text,
  p_handle_hash text,
  p_handle_encrypted bytea,
  p_phone_hash bytea,
  p_phone_encrypted bytea,
  p_profile_name text,
  p_body text,
  p_kind text default 'text',
  p_raw_encrypted bytea default null,
  p_received_at timestamptz default now(),
  p_integration_id uuid default null,
  p_needs_review boolean default false,
  p_review_reasons text[] default '{}',
  p_attachments jsonb default '[]'::jsonb
) returns table (message_id uuid, created boolean)
language plpgsql
set search_path = ''
as $$
declare
  v_customer_id uuid;
  v_conversation_id uuid;
  v_message_id uuid;
begin
  if p_handle_hash not like 'h1:%' then
    raise exception 'ingest_message_v2 takes a keyed hash as the handle, got a plaintext value'
      using errcode = 'invalid_parameter_value';
  end if;
  if p_provider_message_id is not null then
    select m.id into v_message_id from public.messages m
     where m.distributor_id = p_distributor_id and m.channel = p_channel and m.provider_message_id = p_provider_message_id;
    if found then
      return query select v_message_id, false;
      return;
    end if;
  end if;

  select c.customer_id into v_customer_id from public.conversations c
   where c.distributor_id = p_distributor_id and c.channel = p_channel and c.handle = p_handle_hash and c.status = 'open';
  if v_customer_id is null and p_phone_hash is not null then
    select cu.id into v_customer_id from public.customers cu
     where cu.distributor_id = p_distributor_id and cu.phone_hash = p_phone_hash;
  end if;
  if v_customer_id is null then
    insert into public.customers (distributor_id, name, phone_hash, phone_encrypted)
    values (p_distributor_id, p_profile_name, p_phone_hash, p_phone_encrypted)
    on conflict (distributor_id, phone_hash) where phone_hash is not null do nothing
    returning id into v_customer_id;
    if v_customer_id is null then  -- a concurrent intake created it first
      select cu.id into v_customer_id from public.customers cu
       where cu.distributor_id = p_distributor_id and cu.phone_hash = p_phone_hash;
    end if;
  end if;

  insert into public.conversations (distributor_id, customer_id, integration_id, channel, handle, handle_encrypted,
                                    last_message_at)
  values (p_distributor_id, v_customer_id, p_integration_id, p_channel, p_handle_hash, p_handle_encrypted,
          coalesce(p_received_at, now()))
  on conflict (distributor_id, channel, handle) where status = 'open'
  do update set last_message_at = greatest(public.conversations.last_message_at, excluded.last_message_at)
  returning id, customer_id into v_conversation_id, v_customer_id;

  insert into public.messages (distributor_id, conversation_id, customer_id, direction, channel, provider_message_id,
                               kind, body, raw_payload_encrypted, received_at, needs_review, review_reasons)
  values (p_distributor_id, v_conversation_id, v_customer_id, 'inbound', p_channel, p_provider_message_id,
          p_kind, p_body, p_raw_encrypted, coalesce(p_received_at, now()), p_needs_review, p_review_reasons)
  on conflict (distributor_id, channel, provider_message_id) where provider_message_id is not null do nothing
  returning id into v_message_id;

  if v_message_id is null then  -- the same delivery raced us
    select m.id into v_message_id from public.messages m
     where m.distributor_id = p_distributor_id and m.channel = p_channel and m.provider_message_id = p_provider_message_id;
    return query select v_message_id, false;
    return;
  end if;

  insert into public.order_attachments (distributor_id, message_id, kind, media_id, mime_type, caption, location)
  select p_distributor_id, v_message_id, a ->> 'kind', a ->> 'media_id', a ->> 'mime_type', a ->> 'caption', a -> 'location'
    from jsonb_array_elements(coalesce(p_attachments, '[]'::jsonb)) a;

  perform pg_notify('orderflow_messages', p_distributor_id::text);
  return query select v_message_id, true;
end
$$;
comment on function public.ingest_message_v2 is
  'Store one inbound message (idempotent on the provider id) with its handle, phone and payload hashed and encrypted by the caller';

revoke execute on function public.ingest_message_v2 from public, anon, authenticated;
grant execute on function public.ingest_message_v2 to service_role;
