-- Messaging: channel integrations (WhatsApp numbers, SMS gateways), conversations, messages
-- (which double as the worker's queue), and the mapping to the provider's own ids.

create type public.message_state as enum ('queued', 'processing', 'processed', 'failed', 'outbound');
comment on type public.message_state is 'queued → processing → processed | failed; outbound for our replies (not processed)';

create table public.external_integrations (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  kind text not null check (kind in ('whatsapp_cloud', 'channel')),
  name text not null,
  channel text not null default 'whatsapp',
  external_account_id text not null,
  verify_token text,
  app_secret text,
  signing_secret text,
  access_token text,
  enabled boolean not null default true,
  settings jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  unique (kind, external_account_id)
);
comment on table public.external_integrations is 'A channel account of a distributor; inbound payloads map to the distributor through it';
comment on column public.external_integrations.external_account_id is '@external WhatsApp phone_number_id, or the generic channel''s integration key';
comment on column public.external_integrations.app_secret is 'secret: WhatsApp app secret (X-Hub-Signature-256); never readable by authenticated';
comment on column public.external_integrations.signing_secret is 'secret: whsec_ secret(s), space separated, for the generic channel (Standard Webhooks)';

create table public.conversations (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  customer_id uuid not null,
  integration_id uuid,
  channel text not null,
  handle text not null,
  status text not null default 'open' check (status in ('open', 'closed')),
  last_message_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  foreign key (distributor_id, customer_id) references public.customers (distributor_id, id) on delete cascade,
  foreign key (distributor_id, integration_id) references public.external_integrations (distributor_id, id)
    on delete set null (integration_id)
);
create index conversations_customer_idx on public.conversations (distributor_id, customer_id);
create index conversations_integration_idx on public.conversations (distributor_id, integration_id);
create unique index conversations_open_handle_key on public.conversations (distributor_id, channel, handle) where status = 'open';
comment on column public.conversations.handle is 'The customer''s address on the channel (WhatsApp wa_id, phone, chat id)';

create table public.messages (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  conversation_id uuid not null,
  customer_id uuid not null,
  direction text not null check (direction in ('inbound', 'outbound')),
  channel text not null,
  provider_message_id text,
  kind text not null default 'text',
  body text,
  body_redacted text,
  language text,
  raw_payload jsonb,
  received_at timestamptz not null default now(),
  state public.message_state not null default 'queued',
  attempts integer not null default 0,
  max_attempts integer not null default 5 check (max_attempts > 0),
  available_at timestamptz not null default now(),
  locked_by text,
  lease_expires_at timestamptz,
  processed_at timestamptz,
  needs_review boolean not null default false,
  review_reasons text[] not null default '{}',
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  foreign key (distributor_id, conversation_id) references public.conversations (distributor_id, id) on delete cascade,
  foreign key (distributor_id, customer_id) references public.customers (distributor_id, id) on delete cascade
);
create unique index messages_provider_key on public.messages (distributor_id, channel, provider_message_id)
  where provider_message_id is not null;
create index messages_conversation_idx on public.messages (distributor_id, conversation_id, received_at);
create index messages_customer_idx on public.messages (distributor_id, customer_id);
create index messages_queue_idx on public.messages (available_at) where state = 'queued';
create index messages_lease_idx on public.messages (lease_expires_at) where state = 'processing';
comment on table public.messages is 'Every inbound and outbound message; inbound rows are also the worker''s queue';
comment on column public.messages.provider_message_id is '@external the channel provider''s id (WhatsApp wamid); deduplicates repeated deliveries';
comment on column public.messages.body_redacted is 'The body with PII replaced by typed placeholders; the only text an LLM ever sees';

create table public.external_message_mappings (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  integration_id uuid not null,
  message_id uuid,
  conversation_id uuid,
  external_id text not null,
  external_status text,
  status_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  unique (distributor_id, integration_id, external_id),
  foreign key (distributor_id, integration_id) references public.external_integrations (distributor_id, id) on delete cascade,
  foreign key (distributor_id, message_id) references public.messages (distributor_id, id) on delete set null (message_id),
  foreign key (distributor_id, conversation_id) references public.conversations (distributor_id, id) on delete set null (conversation_id)
);
create index external_message_mappings_message_idx on public.external_message_mappings (distributor_id, message_id);
create index external_message_mappings_conversation_idx on public.external_message_mappings (distributor_id, conversation_id);
comment on column public.external_message_mappings.external_id is '@external provider id of a message or a delivery receipt (status) of our replies';

select private.enable_tenant_rls('public.external_integrations', 'admin', 'admin', 'admin');
select private.enable_tenant_rls('public.conversations', 'viewer', 'staff', 'manager');
select private.enable_tenant_rls('public.messages', 'viewer', 'staff', 'manager');
select private.enable_tenant_rls('public.external_message_mappings', 'viewer');

-- Secrets are never readable by authenticated: column-level SELECT without them.
revoke select on public.external_integrations from authenticated, anon;
grant select (id, distributor_id, kind, name, channel, external_account_id, enabled, settings, created_at, updated_at)
  on public.external_integrations to authenticated;
