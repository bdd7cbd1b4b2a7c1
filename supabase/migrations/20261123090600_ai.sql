-- AI: analyses, the usage ledger priced from a versioned price table, budgets and their
-- alerts, errors, training data from corrections, and daily performance roll-ups.

create table public.ai_model_prices (
  id uuid primary key default gen_random_uuid(),
  provider text not null,
  model text not null,
  effective_from date not null,
  input_per_mtok_micro_usd bigint not null check (input_per_mtok_micro_usd >= 0),
  cached_input_per_mtok_micro_usd bigint not null check (cached_input_per_mtok_micro_usd >= 0),
  output_per_mtok_micro_usd bigint not null check (output_per_mtok_micro_usd >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (provider, model, effective_from)
);
comment on table public.ai_model_prices is 'global: price per million tokens (micro-USD) per model and token type, effective from a date; a usage row freezes the price it was billed at';

create table public.ai_budgets (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  monthly_budget_micro_usd bigint not null check (monthly_budget_micro_usd > 0),
  thresholds integer[] not null default '{50,80,100}' check (array_length(thresholds, 1) > 0 and 0 < all (thresholds)),
  mode text not null default 'soft' check (mode in ('soft', 'hard')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  unique (distributor_id)
);
comment on column public.ai_budgets.mode is 'soft: alert only; hard: stop calling paid models and send messages to review (budget_exceeded)';

create table public.ai_responses (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  message_id uuid not null,
  provider text not null,
  model text not null,
  prompt_version text not null,
  intent text not null,
  language text,
  output jsonb not null,
  confidence numeric(4, 3),
  needs_review boolean not null,
  latency_ms integer not null check (latency_ms >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  foreign key (distributor_id, message_id) references public.messages (distributor_id, id) on delete cascade
);
create index ai_responses_message_idx on public.ai_responses (distributor_id, message_id);

create table public.ai_usage_metrics (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  message_id uuid,
  ai_response_id uuid,
  price_id uuid references public.ai_model_prices (id) on delete restrict,
  provider text not null,
  model text not null,
  prompt_version text,
  input_tokens integer not null default 0 check (input_tokens >= 0),
  cached_input_tokens integer not null default 0 check (cached_input_tokens >= 0),
  output_tokens integer not null default 0 check (output_tokens >= 0),
  cost_micro_usd bigint not null default 0 check (cost_micro_usd >= 0),
  latency_ms integer,
  period date not null default date_trunc('month', now())::date,
  occurred_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  foreign key (distributor_id, message_id) references public.messages (distributor_id, id) on delete set null (message_id),
  foreign key (distributor_id, ai_response_id) references public.ai_responses (distributor_id, id)
    on delete set null (ai_response_id)
);
create index ai_usage_metrics_period_idx on public.ai_usage_metrics (distributor_id, period);
create index ai_usage_metrics_message_idx on public.ai_usage_metrics (distributor_id, message_id);
create index ai_usage_metrics_response_idx on public.ai_usage_metrics (distributor_id, ai_response_id);
create index ai_usage_metrics_price_idx on public.ai_usage_metrics (price_id);
comment on table public.ai_usage_metrics is 'One row per AI call: tokens and the cost computed from the price in force, frozen on the row';

create table public.ai_budget_alerts (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  period date not null,
  threshold_pct integer not null check (threshold_pct > 0),
  spent_micro_usd bigint not null,
  budget_micro_usd bigint not null,
  mode text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  unique (distributor_id, period, threshold_pct)
);
comment on table public.ai_budget_alerts is 'One row per threshold crossed per month; the unique key makes racing workers raise it once';

create table public.ai_errors (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  message_id uuid,
  provider text,
  model text,
  error_type text not null,
  error_message text not null,
  attempt integer not null default 1,
  retryable boolean not null default false,
  occurred_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  foreign key (distributor_id, message_id) references public.messages (distributor_id, id) on delete set null (message_id)
);
create index ai_errors_message_idx on public.ai_errors (distributor_id, message_id);

create table public.ai_training_data (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  message_id uuid,
  ai_response_id uuid,
  order_product_id uuid,
  customer_id uuid,
  input_text text not null,
  expected_output jsonb not null,
  correction_type text not null check (correction_type in ('product', 'quantity', 'confirmed', 'intent')),
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  foreign key (distributor_id, message_id) references public.messages (distributor_id, id) on delete set null (message_id),
  foreign key (distributor_id, ai_response_id) references public.ai_responses (distributor_id, id)
    on delete set null (ai_response_id),
  foreign key (distributor_id, order_product_id) references public.order_products (distributor_id, id)
    on delete set null (order_product_id),
  foreign key (distributor_id, customer_id) references public.customers (distributor_id, id) on delete set null (customer_id),
  foreign key (distributor_id, created_by) references public.user_profiles (distributor_id, id) on delete set null (created_by)
);
create index ai_training_data_message_idx on public.ai_training_data (distributor_id, message_id);
create index ai_training_data_response_idx on public.ai_training_data (distributor_id, ai_response_id);
create index ai_training_data_line_idx on public.ai_training_data (distributor_id, order_product_id);
create index ai_training_data_customer_idx on public.ai_training_data (distributor_id, customer_id);
create index ai_training_data_created_by_idx on public.ai_training_data (distributor_id, created_by);

create table public.ai_model_performance (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  day date not null,
  provider text not null,
  model text not null,
  calls integer not null default 0,
  reviewed integer not null default 0,
  correct integer not null default 0,
  avg_latency_ms numeric(10, 1),
  cost_micro_usd bigint not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  unique (distributor_id, day, provider, model)
);

create table public.ai_prompt_performance (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  day date not null,
  prompt_version text not null,
  model text not null,
  calls integer not null default 0,
  reviewed integer not null default 0,
  correct integer not null default 0,
  avg_latency_ms numeric(10, 1),
  cost_micro_usd bigint not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  unique (distributor_id, day, prompt_version, model)
);

alter table public.ai_model_prices enable row level security;
create trigger set_updated_at before update on public.ai_model_prices for each row execute function private.set_updated_at();
create policy "signed-in users read model prices" on public.ai_model_prices for select to authenticated using (true);

select private.enable_tenant_rls('public.ai_budgets', 'viewer', 'admin', 'admin');
select private.enable_tenant_rls('public.ai_responses', 'viewer');
select private.enable_tenant_rls('public.ai_usage_metrics', 'viewer');
select private.enable_tenant_rls('public.ai_budget_alerts', 'viewer');
select private.enable_tenant_rls('public.ai_errors', 'viewer');
select private.enable_tenant_rls('public.ai_training_data', 'viewer', 'staff');
select private.enable_tenant_rls('public.ai_model_performance', 'viewer');
select private.enable_tenant_rls('public.ai_prompt_performance', 'viewer');
