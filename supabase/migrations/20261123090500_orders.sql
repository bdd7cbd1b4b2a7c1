-- Orders and their lines, attachments (media that came with a message), and the matcher's history.

create type public.order_status as enum ('created', 'needs_review', 'confirmed', 'cancelled', 'fulfilled');

create table public.orders (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  customer_id uuid not null,
  conversation_id uuid,
  ai_source_message_id uuid,
  status public.order_status not null default 'created',
  review_reasons text[] not null default '{}',
  currency text not null,
  subtotal_cents bigint not null default 0 check (subtotal_cents >= 0),
  total_cents bigint not null default 0 check (total_cents >= 0),
  requested_delivery_date date,
  delivery_text text,
  notes text,
  confirmed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  foreign key (distributor_id, customer_id) references public.customers (distributor_id, id) on delete restrict,
  foreign key (distributor_id, conversation_id) references public.conversations (distributor_id, id)
    on delete set null (conversation_id),
  foreign key (distributor_id, ai_source_message_id) references public.messages (distributor_id, id)
    on delete set null (ai_source_message_id)
);
create unique index orders_source_message_key on public.orders (distributor_id, ai_source_message_id)
  where ai_source_message_id is not null;
create index orders_customer_idx on public.orders (distributor_id, customer_id, created_at desc);
create index orders_conversation_idx on public.orders (distributor_id, conversation_id);
create index orders_created_idx on public.orders (distributor_id, created_at desc);
comment on column public.orders.ai_source_message_id is 'The message the order was made from: at most one order per message';
comment on column public.orders.review_reasons is 'Why a person must look (low_confidence, unmatched, budget_exceeded ...)';

create table public.order_products (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  order_id uuid not null,
  product_id uuid,
  line_no integer not null check (line_no > 0),
  customer_text text not null,
  sku text,
  product_name text,
  quantity numeric(12, 3) not null check (quantity > 0),
  unit text,
  unit_price_cents bigint not null default 0 check (unit_price_cents >= 0),
  total_cents bigint not null default 0 check (total_cents >= 0),
  confidence numeric(4, 3) check (confidence between 0 and 1),
  match_method text,
  review_reason text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  unique (distributor_id, order_id, line_no),
  foreign key (distributor_id, order_id) references public.orders (distributor_id, id) on delete cascade,
  foreign key (distributor_id, product_id) references public.products (distributor_id, id) on delete set null (product_id)
);
create index order_products_product_idx on public.order_products (distributor_id, product_id);
comment on column public.order_products.review_reason is 'Null when the line is sure; otherwise why it needs a person';

create table public.order_attachments (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  order_id uuid,
  message_id uuid,
  kind text not null,
  media_id text,
  mime_type text,
  caption text,
  location jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  check (order_id is not null or message_id is not null),
  foreign key (distributor_id, order_id) references public.orders (distributor_id, id) on delete cascade,
  foreign key (distributor_id, message_id) references public.messages (distributor_id, id) on delete cascade
);
create index order_attachments_order_idx on public.order_attachments (distributor_id, order_id);
create index order_attachments_message_idx on public.order_attachments (distributor_id, message_id);
comment on column public.order_attachments.media_id is '@external the channel''s media id (fetch it from the provider)';

create table public.product_matching_history (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  message_id uuid,
  order_product_id uuid,
  chosen_product_id uuid,
  corrected_product_id uuid,
  query_text text not null,
  candidates jsonb not null default '[]'::jsonb,
  score numeric(4, 3),
  method text,
  accepted boolean,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  foreign key (distributor_id, message_id) references public.messages (distributor_id, id) on delete set null (message_id),
  foreign key (distributor_id, order_product_id) references public.order_products (distributor_id, id)
    on delete set null (order_product_id),
  foreign key (distributor_id, chosen_product_id) references public.products (distributor_id, id)
    on delete set null (chosen_product_id),
  foreign key (distributor_id, corrected_product_id) references public.products (distributor_id, id)
    on delete set null (corrected_product_id)
);
create index product_matching_history_message_idx on public.product_matching_history (distributor_id, message_id);
create index product_matching_history_line_idx on public.product_matching_history (distributor_id, order_product_id);
create index product_matching_history_chosen_idx on public.product_matching_history (distributor_id, chosen_product_id);
create index product_matching_history_corrected_idx on public.product_matching_history (distributor_id, corrected_product_id);

select private.enable_tenant_rls('public.orders', 'viewer', 'staff', 'manager');
select private.enable_tenant_rls('public.order_products', 'viewer', 'staff', 'staff');
select private.enable_tenant_rls('public.order_attachments', 'viewer', 'staff', 'staff');
select private.enable_tenant_rls('public.product_matching_history', 'viewer');
