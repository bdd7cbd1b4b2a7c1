-- Outbound webhooks (endpoints, deliveries = the outbox, event templates) and rate limits.

create type public.delivery_state as enum ('pending', 'succeeded', 'failed', 'dead');
comment on type public.delivery_state is 'pending: due at next_attempt_at; failed: endpoint disabled before delivery; dead: attempts exhausted (replayable)';

create table public.webhook_endpoints (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  url text not null check (url ~ '^https?://'),
  description text,
  secret text not null check (secret ~ '^whsec_[A-Za-z0-9+/=]{32,}$'),
  previous_secret text,
  previous_secret_expires_at timestamptz,
  event_types text[] not null default '{}',
  enabled boolean not null default true,
  disabled_reason text,
  disabled_at timestamptz,
  max_concurrency integer not null default 4 check (max_concurrency between 1 and 100),
  failing_since timestamptz,
  last_success_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id)
);
comment on column public.webhook_endpoints.secret is 'secret: whsec_ signing secret; never readable by authenticated';
comment on column public.webhook_endpoints.event_types is 'Event types this endpoint receives; empty means all';

create table public.webhook_deliveries (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  endpoint_id uuid not null,
  event_id text not null,
  event_type text not null,
  payload bytea not null,
  message_id uuid,
  order_id uuid,
  state public.delivery_state not null default 'pending',
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  locked_until timestamptz,
  last_status_code integer,
  last_error text,
  response_snippet text,
  delivered_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  unique (endpoint_id, event_id),
  foreign key (distributor_id, endpoint_id) references public.webhook_endpoints (distributor_id, id) on delete cascade,
  foreign key (distributor_id, message_id) references public.messages (distributor_id, id) on delete set null (message_id),
  foreign key (distributor_id, order_id) references public.orders (distributor_id, id) on delete set null (order_id)
);
create index webhook_deliveries_endpoint_idx on public.webhook_deliveries (distributor_id, endpoint_id, state);
create index webhook_deliveries_due_idx on public.webhook_deliveries (next_attempt_at) where state = 'pending';
create index webhook_deliveries_message_idx on public.webhook_deliveries (distributor_id, message_id);
create index webhook_deliveries_order_idx on public.webhook_deliveries (distributor_id, order_id);
comment on column public.webhook_deliveries.event_id is '@external the webhook-id header: stable across retries, shared by the endpoints of one event';
comment on column public.webhook_deliveries.payload is 'The exact bytes sent and signed, frozen at creation';

create table public.webhook_event_templates (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  event_type text not null,
  template jsonb not null default '{}'::jsonb,
  enabled boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  unique (distributor_id, event_type)
);

create table public.api_rate_limits (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  integration_id uuid,
  scope text not null check (scope in ('inbound', 'ai')),
  requests_per_minute integer not null check (requests_per_minute > 0),
  burst integer not null default 0 check (burst >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  unique nulls not distinct (distributor_id, scope, integration_id),
  foreign key (distributor_id, integration_id) references public.external_integrations (distributor_id, id) on delete cascade
);
create index api_rate_limits_integration_idx on public.api_rate_limits (distributor_id, integration_id);

select private.enable_tenant_rls('public.webhook_endpoints', 'admin', 'admin', 'admin');
select private.enable_tenant_rls('public.webhook_deliveries', 'viewer');
select private.enable_tenant_rls('public.webhook_event_templates', 'viewer', 'admin', 'admin');
select private.enable_tenant_rls('public.api_rate_limits', 'viewer', 'admin', 'admin');

revoke select on public.webhook_endpoints from authenticated, anon;
grant select (id, distributor_id, url, description, event_types, enabled, disabled_reason, disabled_at,
  max_concurrency, failing_since, last_success_at, created_at, updated_at)
  on public.webhook_endpoints to authenticated;
