-- The catalog: categories, products (with the aliases customers use), variants and bundles.

create table public.product_categories (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  name text not null,
  parent_category_id uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  unique (distributor_id, name),
  foreign key (distributor_id, parent_category_id) references public.product_categories (distributor_id, id)
    on delete set null (parent_category_id)
);
create index product_categories_parent_idx on public.product_categories (distributor_id, parent_category_id);

create table public.products (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  category_id uuid,
  sku text not null,
  name text not null,
  aliases text[] not null default '{}',
  unit text not null,
  pack_size integer not null default 1 check (pack_size > 0),
  price_cents bigint not null check (price_cents >= 0),
  currency text not null,
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  unique (distributor_id, sku),
  foreign key (distributor_id, category_id) references public.product_categories (distributor_id, id)
    on delete set null (category_id)
);
create index products_category_idx on public.products (distributor_id, category_id);
comment on column public.products.aliases is 'How customers name it ("coca 600", "cs romaine"); the matcher reads them';
comment on column public.products.price_cents is 'Price per catalog unit, in the distributor currency''s minor unit';

create table public.product_variants (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  product_id uuid not null,
  sku text not null,
  name text not null,
  pack_size integer not null default 1 check (pack_size > 0),
  price_cents bigint not null check (price_cents >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  unique (distributor_id, sku),
  foreign key (distributor_id, product_id) references public.products (distributor_id, id) on delete cascade
);
create index product_variants_product_idx on public.product_variants (distributor_id, product_id);

create table public.product_bundles (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  sku text not null,
  name text not null,
  price_cents bigint not null check (price_cents >= 0),
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  unique (distributor_id, sku)
);

create table public.product_bundle_items (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  bundle_id uuid not null,
  product_id uuid not null,
  quantity numeric(12, 3) not null check (quantity > 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  unique (distributor_id, bundle_id, product_id),
  foreign key (distributor_id, bundle_id) references public.product_bundles (distributor_id, id) on delete cascade,
  foreign key (distributor_id, product_id) references public.products (distributor_id, id) on delete cascade
);
create index product_bundle_items_product_idx on public.product_bundle_items (distributor_id, product_id);

select private.enable_tenant_rls('public.product_categories', 'viewer', 'manager', 'manager');
select private.enable_tenant_rls('public.products', 'viewer', 'manager', 'manager');
select private.enable_tenant_rls('public.product_variants', 'viewer', 'manager', 'manager');
select private.enable_tenant_rls('public.product_bundles', 'viewer', 'manager', 'manager');
select private.enable_tenant_rls('public.product_bundle_items', 'viewer', 'manager', 'manager');
