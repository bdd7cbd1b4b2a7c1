-- Customers of a distributor (the shops that order), their labels, and monthly usage roll-ups.

create table public.customers (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  name text,
  business_name text,
  phone text,
  email text,
  address text,
  tax_id text,
  preferred_language text check (preferred_language in ('es', 'en', 'pt')),
  status text not null default 'active' check (status in ('active', 'blocked', 'archived')),
  notes text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id)
);
create unique index customers_phone_key on public.customers (distributor_id, phone) where phone is not null;
comment on table public.customers is 'A business customer (shop) of one distributor';
comment on column public.customers.phone is 'E.164-ish digits as the channel reports them; the intake looks customers up by it';

create table public.customer_labels (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  name text not null,
  color text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  unique (distributor_id, name)
);
comment on table public.customer_labels is 'Labels staff put on customers (VIP, late payer, route 3 ...)';

create table public.customer_label_assignments (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  customer_id uuid not null,
  label_id uuid not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  unique (distributor_id, customer_id, label_id),
  foreign key (distributor_id, customer_id) references public.customers (distributor_id, id) on delete cascade,
  foreign key (distributor_id, label_id) references public.customer_labels (distributor_id, id) on delete cascade
);
create index customer_label_assignments_label_idx on public.customer_label_assignments (distributor_id, label_id);
comment on table public.customer_label_assignments is 'Many-to-many between customers and labels';

create table public.distributor_usage (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  period date not null check (period = date_trunc('month', period)::date),
  messages integer not null default 0,
  orders integer not null default 0,
  ai_calls integer not null default 0,
  ai_cost_micro_usd bigint not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  unique (distributor_id, period)
);
comment on table public.distributor_usage is 'Per month: messages, orders, AI calls and AI cost (micro-USD); refreshed by the worker';

select private.enable_tenant_rls('public.customers', 'viewer', 'staff', 'manager');
select private.enable_tenant_rls('public.customer_labels', 'viewer', 'staff', 'staff');
select private.enable_tenant_rls('public.customer_label_assignments', 'viewer', 'staff', 'staff');
select private.enable_tenant_rls('public.distributor_usage', 'viewer');
